/* protocmc site, two accessibility repairs the theme leaves to us:
   - table frames that scroll can be reached with the keyboard (WCAG 2.1.1): Material wraps each
     table in a frame after the page loads; a frame whose table is wider or taller than it gets
     tabindex="0" and the table's caption (or "Table") as its name;
   - the search dialog gets a name (WCAG 4.1.2). */
(function () {
  function label(frame) {
    var caption = frame.querySelector("caption");
    if (caption) return caption.textContent.trim();
    var wrap = frame.parentElement;
    var next = wrap ? wrap.nextElementSibling : null;
    if (next && next.classList.contains("table-caption")) return next.textContent.trim();
    return "Table";
  }
  function mark() {
    var dialog = document.querySelector(".md-search[role='dialog']");
    if (dialog && !dialog.hasAttribute("aria-label")) dialog.setAttribute("aria-label", "Search");
    var frames = document.querySelectorAll(".md-typeset__scrollwrap, .md-typeset__table");
    frames.forEach(function (frame) {
      var scrolls = frame.scrollWidth > frame.clientWidth + 1 ||
        frame.scrollHeight > frame.clientHeight + 1;
      if (scrolls && !frame.hasAttribute("tabindex")) {
        frame.setAttribute("tabindex", "0");
        frame.setAttribute("role", "region");
        frame.setAttribute("aria-label", label(frame));
      }
    });
  }
  if (window.document$ && typeof window.document$.subscribe === "function") {
    window.document$.subscribe(function () { window.requestAnimationFrame(mark); });
  } else {
    window.addEventListener("load", mark);
  }
  window.addEventListener("resize", mark);
})();
