// Open Workshop: the mod page's button and its live progress (docs/web.md).
//
// The page works without this script (the button is a form that POSTs and comes back here,
// and the page reloads itself while the mod is fetched). With it, the button queues the mod
// through the API (/download/steam/{id}) and the page follows the mod until the download
// link appears.
//
// A "progress source" is anything with start(onEvent) and stop() that calls
// onEvent({phase, state, reason}) with phase one of "queued", "downloading", "ready",
// "failed". pollingSource below asks /condition/mod/[id] (honouring Retry-After);
// a source over the progress stream (GET /progress/{ids}, server-sent events) can replace it
// in followMod without touching the rest.
"use strict";

(function () {
  var box = document.getElementById("fetch");
  if (!box) return;
  var modId = box.dataset.modId;
  var api = box.dataset.api || "";
  var labels = JSON.parse(box.dataset.labels);
  var phaseEl = document.getElementById("phase");
  var bar = document.getElementById("progress-bar");
  var linkBox = document.getElementById("link-box");
  var form = document.getElementById("queue-form");
  var failureEl = document.getElementById("failure");
  var note = document.getElementById("note");
  var heading = document.querySelector("h1");
  var DEFAULT_WAIT = 1;

  function phaseOf(state) {
    if (state === 3) return "queued";
    if (state === 2) return "downloading";
    if (state === 1 || state === 0) return "ready";
    return "failed";
  }

  function retryAfter(response, fallback) {
    var value = Number(response.headers.get("Retry-After"));
    return value > 0 ? value : fallback;
  }

  // Follows one mod by polling /condition/mod/[id]; a mod that leaves the list failed:
  // /info/mod/{id} says why.
  function pollingSource(id, firstWait) {
    var timer = null;
    var stopped = false;
    return {
      start: function (onEvent) {
        var wait = firstWait || DEFAULT_WAIT;
        function tick() {
          if (stopped) return;
          fetch(api + "/condition/mod/[" + id + "]", { cache: "no-store" })
            .then(function (response) {
              wait = retryAfter(response, wait);
              return response.json();
            })
            .then(function (states) {
              if (stopped) return;
              var state = states[String(id)];
              if (state === undefined) {
                return fetch(api + "/info/mod/" + id, { cache: "no-store" })
                  .then(function (r) { return r.json(); })
                  .then(function (info) {
                    var failure = info.result === null ? info.failure : null;
                    onEvent({ phase: "failed", reason: failure ? failure.reason : "" });
                  });
              }
              onEvent({ phase: phaseOf(state), state: state });
              if (state > 1) timer = setTimeout(tick, wait * 1000);
            })
            .catch(function () {
              if (!stopped) timer = setTimeout(tick, wait * 1000);
            });
        }
        timer = setTimeout(tick, 0);
      },
      stop: function () {
        stopped = true;
        if (timer !== null) clearTimeout(timer);
      },
    };
  }

  function show(event) {
    phaseEl.textContent = event.phase === "ready" ? labels[event.state === 1 ? "available" : "ready"]
      : labels[event.phase] + (event.reason ? ": " + event.reason : "");
    box.dataset.phase = event.phase;
    bar.hidden = event.phase === "ready" || event.phase === "failed";
    bar.value = { queued: 1, downloading: 2, ready: 3 }[event.phase] || 0;
    if (event.phase === "ready") {
      linkBox.hidden = false;
      if (form) form.hidden = true;
      if (note) note.hidden = true;
    } else if (event.phase === "failed" && form) {
      form.hidden = false;
    }
  }

  // The mod's name, once the server has it (the page was rendered before it had).
  function showName() {
    fetch(api + "/info/mod/" + modId, { cache: "no-store" })
      .then(function (r) { return r.json(); })
      .then(function (info) {
        if (info.result && info.result.name) heading.textContent = info.result.name;
      })
      .catch(function () {});
  }

  function followMod(source) {
    source.start(function (event) {
      show(event);
      if (event.phase === "ready") showName();
      if (event.phase === "ready" || event.phase === "failed") source.stop();
    });
  }

  function queue() {
    var controller = new AbortController();
    show({ phase: "queued" });
    if (form) form.hidden = true;
    if (failureEl) failureEl.hidden = true;
    fetch(api + "/download/steam/" + modId, { cache: "no-store", signal: controller.signal })
      .then(function (response) {
        if (response.status === 200) {
          controller.abort(); // the archive is here already: do not read it into the page
          show({ phase: "ready", state: 0 });
          return;
        }
        if (response.status !== 202) {
          return response.json().then(function (body) {
            show({ phase: "failed", reason: body.message });
          });
        }
        followMod(pollingSource(modId, retryAfter(response, DEFAULT_WAIT)));
      })
      .catch(function (error) {
        if (error.name !== "AbortError") show({ phase: "failed", reason: String(error) });
      });
  }

  if (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      queue();
    });
  }
  var state = box.dataset.state === "" ? null : Number(box.dataset.state);
  if (state === 3 || state === 2) followMod(pollingSource(modId, DEFAULT_WAIT));
})();
