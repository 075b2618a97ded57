"""Referrals to the authorities: which authority a hit goes to (platforms vs sites), and the exports handed
to them (first CSV form; batches, evidence and re-checks come with the referrals issue)."""
