document.addEventListener('DOMContentLoaded', function () {
  var kf = document.getElementById('kf');
  kf.innerHTML = '<h2>在线客服</h2><p>代挂号咨询请加客服微信 hzyyb666，或拨打 158 5720 3361，专家号、加号均可办理。</p>';
});
