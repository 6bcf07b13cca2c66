// The console works without this file; it only adds conveniences: an empty key/value row
// on "Add row", "select all" for the failed-deliveries queue, a question before a form
// marked data-confirm is sent, and the CSRF header on htmx requests (forms carry the token
// as a field as well).
document.addEventListener("click", function (e) {
  var add = e.target.closest("[data-add-row]");
  if (add) {
    e.preventDefault();
    var list = document.getElementById(add.getAttribute("data-add-row"));
    var last = list && list.querySelector(".row:last-child");
    if (last) {
      var copy = last.cloneNode(true);
      copy.querySelectorAll("input").forEach(function (i) { i.value = ""; });
      list.appendChild(copy);
    }
  }
});
document.addEventListener("change", function (e) {
  if (e.target.matches("[data-select-all]")) {
    document.querySelectorAll("input[name=delivery_id]").forEach(function (c) { c.checked = e.target.checked; });
  }
});
document.addEventListener("htmx:configRequest", function (e) {
  var meta = document.querySelector("meta[name=csrf-token]");
  if (meta) { e.detail.headers["X-CSRF-Token"] = meta.content; }
});
document.addEventListener("submit", function (e) {
  var ask = e.target.getAttribute && e.target.getAttribute("data-confirm");
  if (ask && !window.confirm(ask)) { e.preventDefault(); }
});
