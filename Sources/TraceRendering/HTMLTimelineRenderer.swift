import TraceAnalysis
import TraceFormat

/// The timeline as one self-contained HTML page: the SVG timeline, zoom and pan (wheel, drag, buttons), and the
/// findings listed in full (the first `maxListedFindings`), each shown and its lane highlighted when its badge is
/// clicked.
///
/// Needs no network: no fonts, scripts or styles from elsewhere, and a Content-Security-Policy that forbids loading
/// any. Every name from the trace is escaped where it appears, and none appears inside the script, which reads
/// the times it needs from the SVG's `data-` attributes.
public struct HTMLTimelineRenderer: Sendable {
    public var width: Int
    public var maxLanes: Int
    /// Findings listed with their notes and help; more are counted in one line (`check` prints them all). A badge
    /// of one not listed shows its message. Bounds the page: a million-task trace can have tens of thousands.
    public var maxListedFindings: Int

    public init(width: Int = 1200, maxLanes: Int = 200, maxListedFindings: Int = 1_000) {
        self.width = width
        self.maxLanes = maxLanes
        self.maxListedFindings = max(maxListedFindings, 0)
    }

    /// Renders the page for `report` (which must have been analyzed with `keepTasks` or `TaskKeeping.outline`).
    /// - Parameter focus: as for the SVG timeline: one task, its ancestors and its descendants.
    public func render(_ report: AnalysisReport, title: String, focus: String? = nil) throws(TimelineRenderer.FocusError) -> String {
        render(report, layout: try TimelineLayout(report, focus: focus, maxLanes: maxLanes), title: title)
    }

    /// Renders `layout` (made from `report` with this renderer's `maxLanes`).
    public func render(_ report: AnalysisReport, layout: TimelineLayout, title: String) -> String {
        var page = ""
        write(report, layout: layout, title: title) { page += $0 }
        return page
    }

    /// Writes the page `render` returns to `sink` in pieces (the picture line by line), so the whole page is
    /// never one string.
    public func write(_ report: AnalysisReport, layout: TimelineLayout, title: String,
                      to sink: (String) throws -> Void) rethrows {
        try sink(head(title: title))
        try SVGTimelineRenderer(width: width, maxLanes: maxLanes, listsFindings: false)
            .write(report, layout: layout, title: title, to: sink)
        try sink(tail(report))
    }

    /// The page after the picture: the findings and the script.
    private func tail(_ report: AnalysisReport) -> String {
        var findings: [String] = []
        // The report keeps the text of these at least (`TraceAnalyzer.textOfFirstFindings`).
        for index in report.findings.indices.prefix(while: { report.findingNumber(at: $0) < maxListedFindings }) {
            let number = report.findingNumber(at: index), finding = report.findings[index]
            let notes = finding.notes.map { "<li>note: \(MarkupText.escape($0, maxCharacters: 500))</li>" }.joined()
            findings.append("""
                <li class="finding \(finding.level.rawValue)" id="finding-\(number)" data-task="\(finding.task)">\
                <span class="rule">\(finding.level.rawValue)[\(MarkupText.escape(finding.rule))]:</span> \
                <span class="message">\(MarkupText.escape(finding.message, maxCharacters: 500))</span>\
                <ul>\(notes)<li class="help">help: \(MarkupText.escape(finding.help, maxCharacters: 500))</li></ul></li>
                """)
        }
        if report.keptFindingCount > maxListedFindings {
            let more = report.keptFindingCount - maxListedFindings + report.elidedFindings
            findings.append("<li class=\"elided\">… \(Plural.count(more, "more finding")) not listed (run canceltrace check)</li>")
        } else if report.elidedFindings > 0 {
            findings.append("<li class=\"elided\">… \(Plural.count(report.elidedFindings, "more finding")) not kept</li>")
        }
        let findingsSection = findings.isEmpty
            ? "<p class=\"none\">No findings.</p>"
            : "<ol class=\"findings\">\n" + findings.joined(separator: "\n") + "\n</ol>"
        return """
            </div>
            <div id="detail" role="status" aria-live="polite"></div>
            <h2>Findings</h2>
            \(findingsSection)
            <script>
            \(Self.script)
            </script>
            </body>
            </html>

            """
    }

    /// The page before the picture: styles and controls.
    private func head(title: String) -> String {
        """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="generator" content="canceltrace">
            <title>\(MarkupText.escape(title)) — canceltrace timeline</title>
            <style>
            body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 16px 24px; color: #1f2328; }
            .controls { margin: 8px 0; display: flex; gap: 8px; align-items: center; }
            .controls button { font: inherit; padding: 2px 10px; }
            .controls .hint { color: #656d76; font-size: 12px; }
            #timeline { overflow-x: auto; border: 1px solid #d0d7de; border-radius: 6px; }
            #timeline svg { display: block; cursor: grab; user-select: none; }
            #timeline svg.dragging { cursor: grabbing; }
            #timeline .badge, #timeline .marker { cursor: pointer; }
            #detail { min-height: 1.5em; margin: 8px 0; padding: 6px 10px; background: #f6f8fa; border-radius: 6px; font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px; white-space: pre-wrap; }
            #detail:empty { display: none; }
            ol.findings { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 13px; padding-left: 24px; }
            ol.findings > li { margin: 6px 0; padding: 4px 8px; border-radius: 6px; }
            ol.findings > li.selected { background: #ddf4ff; outline: 2px solid #0969da; }
            ol.findings ul { list-style: none; padding-left: 16px; margin: 2px 0; color: #57606a; }
            .finding.error .rule { color: #cf222e; font-weight: bold; }
            .finding.warning .rule { color: #9a6700; font-weight: bold; }
            .finding.note .rule { color: #0969da; font-weight: bold; }
            </style>
            </head>
            <body>
            <h1>Task timeline</h1>
            <div class="controls"><button type="button" id="zoom-in" title="Zoom in">+</button>\
            <button type="button" id="zoom-out" title="Zoom out">−</button>\
            <button type="button" id="zoom-reset">Reset</button>\
            <span class="hint">Scroll over the timeline to zoom, drag to pan; hover a marker for details, click a ! for its finding.</span></div>
            <div id="timeline">

            """
    }

    /// Zoom, pan and finding selection. Reads only the SVG's attributes; holds no trace data.
    static let script = """
        (function () {
          "use strict";
          var svg = document.querySelector("#timeline svg");
          if (!svg) return;
          var left = +svg.dataset.plotLeft, width = +svg.dataset.plotWidth, span = +svg.dataset.span;
          var items = Array.prototype.slice.call(svg.querySelectorAll(".t"));
          var axis = svg.querySelector("g.axis");
          var view = { from: 0, to: span };
          var NS = "http://www.w3.org/2000/svg";
          function x(t) { return left + (t - view.from) / (view.to - view.from) * width; }
          function label(t, step) {
            if (t === 0) return "0";
            if (step < 1e3) return t + " ns";
            if (step < 1e6) return step % 1e3 === 0 ? (t / 1e3) + " µs" : t + " ns";
            if (step < 1e9) return step % 1e6 === 0 ? (t / 1e6) + " ms" : (t / 1e3) + " µs";
            return step % 1e9 === 0 ? (t / 1e9) + " s" : (t / 1e6) + " ms";
          }
          function drawAxis() {
            var y = +axis.dataset.y;
            while (axis.firstChild) axis.removeChild(axis.firstChild);
            var base = document.createElementNS(NS, "line");
            base.setAttribute("x1", left); base.setAttribute("x2", left + width);
            base.setAttribute("y1", y); base.setAttribute("y2", y);
            axis.appendChild(base);
            var raw = (view.to - view.from) / Math.max(2, Math.floor(width / 90)), step = 1;
            search: for (var power = 1; power < 1e19; power *= 10) {
              var factors = [1, 2, 5];
              for (var i = 0; i < 3; i++) { if (factors[i] * power >= raw) { step = factors[i] * power; break search; } }
            }
            for (var t = Math.ceil(view.from / step) * step; t <= view.to; t += step) {
              var tx = x(t);
              var tick = document.createElementNS(NS, "line");
              tick.setAttribute("x1", tx); tick.setAttribute("x2", tx);
              tick.setAttribute("y1", y); tick.setAttribute("y2", y + 5);
              axis.appendChild(tick);
              var text = document.createElementNS(NS, "text");
              text.setAttribute("x", tx); text.setAttribute("y", y + 18);
              text.setAttribute("text-anchor", "middle");
              text.textContent = label(t, step);
              axis.appendChild(text);
            }
          }
          function layout() {
            items.forEach(function (e) {
              var t0 = +e.dataset.t0;
              if (e.dataset.t1 !== undefined) {
                var a = x(t0), b = x(+e.dataset.t1);
                e.setAttribute("x", a); e.setAttribute("width", Math.max(b - a, 1));
              } else if (e.tagName === "line") {
                e.setAttribute("x1", x(t0)); e.setAttribute("x2", x(t0));
              } else {
                e.setAttribute("transform", "translate(" + x(t0) + "," + e.dataset.y + ")");
              }
            });
            drawAxis();
          }
          function zoom(factor, atTime) {
            var length = Math.min(span, Math.max(100, (view.to - view.from) * factor));
            var anchor = atTime === undefined ? (view.from + view.to) / 2 : atTime;
            var ratio = (anchor - view.from) / (view.to - view.from);
            view.from = anchor - ratio * length; view.to = view.from + length;
            clamp(); layout();
          }
          function clamp() {
            var length = view.to - view.from;
            if (view.from < 0) { view.from = 0; view.to = length; }
            if (view.to > span) { view.to = span; view.from = span - length; }
          }
          function timeAt(clientX) {
            var box = svg.getBoundingClientRect();
            var px = (clientX - box.left) * (svg.viewBox.baseVal.width / box.width);
            return view.from + (px - left) / width * (view.to - view.from);
          }
          svg.addEventListener("wheel", function (event) {
            event.preventDefault();
            zoom(event.deltaY < 0 ? 0.8 : 1.25, timeAt(event.clientX));
          }, { passive: false });
          var drag = null;
          svg.addEventListener("pointerdown", function (event) {
            if (event.target.closest(".badge")) return;
            drag = { x: event.clientX, from: view.from, to: view.to };
            svg.classList.add("dragging");
          });
          window.addEventListener("pointermove", function (event) {
            if (!drag) return;
            var box = svg.getBoundingClientRect();
            var dt = (event.clientX - drag.x) * (svg.viewBox.baseVal.width / box.width) / width * (drag.to - drag.from);
            view.from = drag.from - dt; view.to = drag.to - dt;
            clamp(); layout();
          });
          window.addEventListener("pointerup", function () { drag = null; svg.classList.remove("dragging"); });
          document.getElementById("zoom-in").addEventListener("click", function () { zoom(0.5); });
          document.getElementById("zoom-out").addEventListener("click", function () { zoom(2); });
          document.getElementById("zoom-reset").addEventListener("click", function () { view = { from: 0, to: span }; layout(); });
          function select(number, badge) {
            var item = document.getElementById("finding-" + number);
            if (!item) {
              var tip = badge && badge.querySelector("title");
              if (tip) document.getElementById("detail").textContent = tip.textContent;
              return;
            }
            Array.prototype.forEach.call(document.querySelectorAll(".selected, .focus"), function (e) {
              e.classList.remove("selected"); e.classList.remove("focus");
            });
            item.classList.add("selected");
            var lane = svg.querySelector('g.lane[data-task="' + item.dataset.task + '"]');
            if (lane) lane.classList.add("focus");
            document.getElementById("detail").textContent = item.innerText;
          }
          Array.prototype.forEach.call(svg.querySelectorAll(".badge"), function (badge) {
            badge.addEventListener("click", function () { select(badge.dataset.finding, badge); });
          });
          Array.prototype.forEach.call(document.querySelectorAll("ol.findings > li.finding"), function (item) {
            item.addEventListener("click", function () { select(item.id.slice("finding-".length)); });
          });
          document.body.dataset.timelineReady = "1";
          document.body.dataset.lanes = String(svg.querySelectorAll("g.lane").length);
        })();
        """
}
