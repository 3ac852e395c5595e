// Rosetta: what a desktop page left open does when its access ends.
// A revoked or expired share link, a signed-out owner or a deleted task cuts the desktop's WebSocket,
// and noVNC alone would only say "Failed to connect" on every reconnect. So whenever noVNC leaves the
// connected (or connecting) state, the page asks the platform whether it may still load; if not, it
// loads again, and the platform answers that load with the page that says why (for a share link, the
// sign-in page with its notice). A task that only stopped answers 503 unmarked: noVNC keeps reconnecting.
// It watches the state classes noVNC's UI puts on <html> (noVNC_connecting, noVNC_connected, …)
// and touches nothing of noVNC. Not inside a frame: the dashboard embedding the desktop tells its user itself.
(function () {
  "use strict";
  if (window.top !== window || !window.fetch || !window.MutationObserver) return;
  var root = document.documentElement;
  var wasUp = false, checking = false;

  // Only the platform's own refusal counts (it marks it): the interface's own 401, 403 or 404 (a notebook
  // renamed in another tab) is no reason to load the page again and lose what is in it.
  function accessEnded(response) {
    return response.headers.get("X-Rosetta-Access") === "ended";
  }

  function checkAccess() {
    if (checking) return;
    checking = true;
    fetch(location.href, { cache: "no-store", redirect: "manual", credentials: "same-origin" })
      .then(function (response) { if (accessEnded(response)) location.reload(); })
      .catch(function () { /* the platform is unreachable: noVNC's reconnecting says enough */ })
      .then(function () { checking = false; });
  }

  new MutationObserver(function () {
    var up = root.classList.contains("noVNC_connected") || root.classList.contains("noVNC_connecting");
    if (wasUp && !up) checkAccess();
    wasUp = up;
  }).observe(root, { attributes: true, attributeFilter: ["class"] });
})();
