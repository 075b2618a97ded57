/* online consultation widget loader */
(function () {
  var box = document.createElement("div");
  box.id = "swt-chat";
  box.innerHTML = "<b>在线咨询</b><p>专家助理在线，点击免费咨询</p>";
  box.style.cssText = "position:fixed;right:10px;bottom:10px;width:220px;background:#c00;color:#fff;padding:10px";
  document.addEventListener("DOMContentLoaded", function () { document.body.appendChild(box); });
})();
