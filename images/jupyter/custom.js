// Rosetta: what a notebook page left open does when its access ends.
// A revoked or expired share link, a signed-out owner or a deleted task cuts the kernel's WebSocket,
// and the notebook alone would only keep saying "Connecting to kernel" and "Connection failed".
// So whenever the kernel's connection closes or fails, or the kernel is found gone (what the notebook
// concludes when its requests are refused), the page asks the platform whether it may still load;
// if not, it loads again, and the platform answers that load with the page that says why (for a share link, the sign-in page with its notice). A task that only stopped
// answers 503 unmarked: the notebook keeps reconnecting. Jupyter loads this as custom/custom.js on its
// pages; a user's own ~/.jupyter/custom/custom.js takes its place.
define(["base/js/events"], function (events) {
  "use strict";
  var checking = false;

  // Only the platform's own refusal counts (it marks it): the interface's own 401, 403 or 404 (a notebook
  // renamed in another tab) is no reason to load the page again and lose what is in it.
  function accessEnded(response) {
    return response.headers.get("X-Rosetta-Access") === "ended";
  }

  function checkAccess() {
    if (checking || !window.fetch) return;
    checking = true;
    fetch(location.href, { cache: "no-store", redirect: "manual", credentials: "same-origin" })
      .then(function (response) { if (accessEnded(response)) location.reload(); })
      .catch(function () { /* the platform is unreachable: the notebook's own reconnecting says enough */ })
      .then(function () { checking = false; });
  }

  events.on("kernel_disconnected.Kernel kernel_connection_failed.Kernel kernel_dead.Kernel", checkAccess);
});
