// A small stand-in for the web app's bundle: decodes RENDER_DATA and draws search results, a video's
// description or the login panel.
document.addEventListener('DOMContentLoaded', function () {
  var raw = document.getElementById('RENDER_DATA');
  var d = raw ? JSON.parse(decodeURIComponent(raw.textContent)) : {};
  var root = document.getElementById('root');
  function esc(t) { var e = document.createElement('div'); e.textContent = t; return e.innerHTML; }
  if (d.login) {
    root.innerHTML = '<div id="login-panel" class="login-panel"><p>登录后即可查看搜索结果</p><p>打开抖音App扫码登录</p></div>';
  } else if (d.search) {
    var html = '<ul data-e2e="scroll-list">';
    d.search.data.forEach(function (it) {
      html += '<li data-e2e="search-item"><a href="//www.douyin.com/video/' + it.aweme_id + '">' +
        '<p>' + esc(it.desc) + '</p><span>@' + esc(it.author) + '</span></a></li>';
    });
    root.innerHTML = html + '</ul>';
  } else if (d.video) {
    var v = d.video;
    root.innerHTML = '<div data-e2e="detail-video-info"><h1 data-e2e="video-desc">' + esc(v.desc) + '</h1>' +
      '<div data-e2e="video-author"><span>' + esc(v.author) + '</span></div>' +
      '<div class="comments"><p>' + esc(v.pinned_comment) + '</p></div></div>';
  }
});
