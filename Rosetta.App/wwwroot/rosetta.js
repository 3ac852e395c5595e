// Small helpers for Blazor components (no external scripts).
window.rosetta = {
    // Keeps a log view pinned to its end while the user has not scrolled up.
    scrollToEnd: function (element) {
        if (!element) return;
        const nearEnd = element.scrollHeight - element.scrollTop - element.clientHeight < 80;
        if (nearEnd || !element.dataset.touched) element.scrollTop = element.scrollHeight;
        if (!element.dataset.listening) {
            element.dataset.listening = "1";
            element.addEventListener("scroll", () => { element.dataset.touched = "1"; }, { passive: true });
        }
    },
    fullscreen: function (element) {
        if (element && element.requestFullscreen) element.requestFullscreen();
    },
    reload: function (frame) {
        if (frame) frame.src = frame.src;
    },
    copy: async function (text) {
        await navigator.clipboard.writeText(text);
    }
};

// A file dropped beside a drop zone would make the browser open it in place of the dashboard (and end
// the circuit); only file inputs (the file manager's drop zone) take drops.
for (const type of ["dragover", "drop"]) {
    window.addEventListener(type, e => {
        if (!(e.target instanceof HTMLInputElement && e.target.type === "file")) e.preventDefault();
    });
}
