// kefu web chat widget: <script src="https://KEFU/widget.js" async></script> adds a chat button that
// opens the chat in a frame. The page embedding it must be listed in kefu's web.allowed_origins.
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.__kefuWidget) { return; }
  window.__kefuWidget = true;
  var base = new URL(".", script.src).href;
  var lang = script.getAttribute("data-lang") || "";
  var label = script.getAttribute("data-label") || "客服 / Chat";

  var button = document.createElement("button");
  button.type = "button";
  button.textContent = label;
  button.setAttribute("aria-expanded", "false");
  button.setAttribute("data-kefu", "launcher");
  button.style.cssText = "position:fixed;right:20px;bottom:20px;z-index:2147483646;padding:12px 18px;" +
    "border:0;border-radius:24px;background:#1677ff;color:#fff;font:15px system-ui,sans-serif;cursor:pointer;" +
    "box-shadow:0 4px 12px rgba(0,0,0,.2)";

  var frame = null;
  button.addEventListener("click", function () {
    if (!frame) {
      frame = document.createElement("iframe");
      frame.src = base + (lang ? "?lang=" + encodeURIComponent(lang) : "");
      frame.title = label;
      frame.setAttribute("data-kefu", "chat");
      frame.style.cssText = "position:fixed;right:20px;bottom:76px;z-index:2147483647;width:370px;" +
        "height:560px;max-width:calc(100vw - 40px);max-height:calc(100vh - 100px);border:0;" +
        "border-radius:12px;box-shadow:0 8px 24px rgba(0,0,0,.25);background:#fff";
      document.body.appendChild(frame);
    } else {
      frame.hidden = !frame.hidden;
    }
    button.setAttribute("aria-expanded", String(!frame.hidden));
  });
  if (document.body) {
    document.body.appendChild(button);
  } else {
    document.addEventListener("DOMContentLoaded", function () { document.body.appendChild(button); });
  }
})();
