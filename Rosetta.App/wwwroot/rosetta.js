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
    // True once the element fills the screen; false when the browser refuses (no click just before,
    // a policy, an embedded view), so the page can say what to do instead.
    fullscreen: async function (element) {
        if (!element || !element.requestFullscreen) return false;
        try {
            await element.requestFullscreen();
            return true;
        } catch {
            return false;
        }
    },
    reload: function (frame) {
        if (frame) frame.src = frame.src;
    },
    // True once the text is on the clipboard. The clipboard API exists only in secure contexts (HTTPS,
    // localhost) and may be refused; the older copy command still works from a click on plain HTTP.
    copy: async function (text) {
        try {
            if (navigator.clipboard && window.isSecureContext) {
                await navigator.clipboard.writeText(text);
                return true;
            }
        } catch { /* refused: try the older way */ }
        const area = document.createElement("textarea");
        area.value = text;
        area.setAttribute("readonly", "");
        area.style.position = "fixed";
        area.style.opacity = "0";
        document.body.appendChild(area);
        area.select();
        try {
            return document.execCommand("copy");
        } catch {
            return false;
        } finally {
            area.remove();
        }
    },
    // Uploads the files of a file input straight to the storage API, one PUT per file (urls[i], null
    // to skip one), one after the other: the browser streams each file from disk, with the session
    // cookie. Progress (at most every 200 ms) and each answer go back to the page. Returns at once:
    // an upload outlasts the page's call timeout.
    uploadFiles: function (selector, urls, page) {
        window.rosetta.sendFiles(selector, urls, page);
    },
    sendFiles: async function (selector, urls, page) {
        // A page left meanwhile no longer answers; the files still go up.
        const report = (...args) => page.invokeMethodAsync(...args).catch(() => { });
        // MudFileUpload keeps the input that was used (hidden) and adds a fresh one: the files are in the last input holding any.
        const inputs = Array.from(document.querySelectorAll(selector)).filter(i => i.files && i.files.length > 0);
        const files = inputs.length > 0 ? Array.from(inputs[inputs.length - 1].files) : [];
        for (let i = 0; i < urls.length; i++) {
            if (!urls[i]) continue;
            if (!files[i]) { await report("UploadFinished", i, 0, ""); continue; }
            const answer = await new Promise(resolve => {
                const request = new XMLHttpRequest();
                let reported = 0;
                request.upload.onprogress = e => {
                    if (Date.now() - reported < 200) return;
                    reported = Date.now();
                    report("UploadProgress", i, e.loaded);
                };
                request.onload = () => resolve({ status: request.status, body: request.responseText });
                request.onerror = request.onabort = () => resolve({ status: 0, body: "" });
                request.open("PUT", urls[i]);
                request.setRequestHeader("Content-Type", "application/octet-stream");
                request.send(files[i]);
            });
            await report("UploadFinished", i, answer.status, answer.body);
        }
    }
};

// A file dropped beside a drop zone would make the browser open it in place of the dashboard (and end
// the circuit); only file inputs (the file manager's drop zone) take drops.
for (const type of ["dragover", "drop"]) {
    window.addEventListener(type, e => {
        if (!(e.target instanceof HTMLInputElement && e.target.type === "file")) e.preventDefault();
    });
}
