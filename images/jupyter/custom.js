// Rosetta: what a notebook page left open does when its access ends.
// A revoked or expired share link, a signed-out owner or a deleted task cuts the kernel's WebSocket,
// and the notebook alone would only keep saying "Connecting to kernel" and "Connection failed".
// So whenever the kernel's connection closes or fails, or the kernel is found gone (what the notebook
// concludes when its requests are refused), the page asks the platform whether it may still load;
// if not, it loads again, and the platform answers that load with the page that says why (for a share link, the sign-in page with its notice). A task that only stopped
// answers 503: the notebook keeps reconnecting. Jupyter loads this as custom/custom.js on its
// pages; a user's own ~/.jupyter/custom/custom.js takes its place.
define(["base/js/events"], function (events) {
  "use strict";
  var checking = false;

  function accessEnded(response) {
    return response.type === "opaqueredirect" || [401, 403, 404].indexOf(response.status) >= 0;
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
