// A small stand-in for the web app's bundle: draws the search results, a note or the login panel from
// window.__INITIAL_STATE__ once the document is ready.
document.addEventListener('DOMContentLoaded', function () {
  var s = window.__INITIAL_STATE__ || {};
  var root = document.getElementById('app');
  function esc(t) { var d = document.createElement('div'); d.textContent = t; return d.innerHTML; }
  if (s.login) {
    root.innerHTML = '<div class="login-container"><div class="login-reason">登录后查看搜索结果</div>' +
      '<div class="qrcode">小红书App扫码登录</div></div>';
    return;
  }
  if (s.search) {
    var html = '<div class="feeds-container">';
    s.search.feeds.forEach(function (f) {
      html += '<section class="note-item"><div><a class="cover mask ld" href="/explore/' + f.id +
        '?xsec_token=' + f.xsecToken + '&xsec_source=pc_search"></a><div class="footer"><a class="title" href="/explore/' +
        f.id + '?xsec_token=' + f.xsecToken + '&xsec_source=pc_search"><span>' + esc(f.title) +
        '</span></a><div class="card-bottom-wrapper"><span class="name">' + esc(f.user) + '</span></div></div></div></section>';
    });
    root.innerHTML = html + '</div>';
    return;
  }
  if (s.note) {
    var n = s.note;
    root.innerHTML = '<div id="noteContainer" class="note-container"><div class="author-wrapper"><span class="username">' +
      esc(n.user) + '</span></div><div id="detail-title" class="title">' + esc(n.title) + '</div>' +
      '<div id="detail-desc" class="desc"><span class="note-text">' + esc(n.desc).replace(/\n/g, '<br>') +
      '</span></div><div class="bottom-container"><span class="date">' + esc(n.time) + '</span></div></div>';
  }
});
