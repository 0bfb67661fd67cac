// Open Workshop: the mod page's button and its live progress (docs/web.md).
//
// The page works without this script (the button is a form that POSTs and comes back here,
// and the page reloads itself while the mod is fetched). With it, the button queues the mod
// through the API (/download/steam/{id}) and the page follows the mod until the download
// link appears.
//
// A "progress source" is anything with start(onEvent) and stop() that calls
// onEvent({phase, state, reason, position, done, total, eta}) with phase one of "queued",
// "downloading", "packing", "ready", "failed". streamSource reads the server's progress
// stream (GET /progress/[id], server-sent events: the bytes downloaded and packed, the place
// in the queue, an estimate); where the browser or the server has no stream it falls back to
// pollingSource, which asks /condition/mod/[id] (honouring Retry-After).
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

  // Follows one mod on the server's progress stream; the polling source takes over when
  // the stream cannot be opened or breaks before the mod is ready (a server of the original
  // API has none).
  function streamSource(id) {
    var stream = null;
    var fallback = null;
    var stopped = false;
    return {
      start: function (onEvent) {
        function poll() {
          if (stream !== null) stream.close();
          if (!stopped && fallback === null) {
            fallback = pollingSource(id, DEFAULT_WAIT);
            fallback.start(onEvent);
          }
        }
        if (typeof EventSource === "undefined") return poll();
        stream = new EventSource(api + "/progress/[" + id + "]");
        stream.addEventListener("progress", function (message) {
          if (!stopped) onEvent(fromStream(JSON.parse(message.data)));
        });
        stream.onerror = poll; // also when the server ends the stream: polling says why
      },
      stop: function () {
        stopped = true;
        if (stream !== null) stream.close();
        if (fallback !== null) fallback.stop();
      },
    };
  }

  // A /progress event as the page shows it: parsing is "ready" in condition 1 (the archive
  // can be downloaded while the server reads the mod's page).
  function fromStream(p) {
    if (p.phase === "parsing" || p.phase === "ready") return { phase: "ready", state: p.condition };
    if (p.phase === "missing") return { phase: "failed", reason: "" };
    return { phase: p.phase, reason: p.reason, position: p.position, done: p.done,
             total: p.total, eta: p.eta };
  }

  function detailOf(event) {
    if (event.phase === "queued" && event.position) {
      return labels.position.replace("{}", event.position);
    }
    var parts = [];
    if (event.total && event.done !== null && event.done !== undefined) {
      parts.push(Math.floor((100 * event.done) / event.total) + "%");
    }
    if (event.eta !== null && event.eta !== undefined) {
      parts.push(labels.eta.replace("{}", Math.ceil(event.eta)));
    }
    return parts.join(", ");
  }

  function show(event) {
    var detail = event.phase === "ready" ? "" : detailOf(event);
    phaseEl.textContent = event.phase === "ready" ? labels[event.state === 1 ? "available" : "ready"]
      : labels[event.phase] + (event.reason ? ": " + event.reason : "") +
        (detail ? " (" + detail + ")" : "");
    box.dataset.phase = event.phase;
    bar.hidden = event.phase === "ready" || event.phase === "failed";
    if (event.total && event.done !== null && event.done !== undefined) {
      bar.max = event.total;
      bar.value = Math.min(event.done, event.total);
    } else {
      bar.max = 3;
      bar.value = { queued: 1, downloading: 2, packing: 2, ready: 3 }[event.phase] || 0;
    }
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
        followMod(streamSource(modId));
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
  if (state === 3 || state === 2) followMod(streamSource(modId));
})();
