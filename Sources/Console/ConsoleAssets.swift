import CaseStorage

/// The console's HTML, CSS and JavaScript, served from the binary: no CDN,
/// no external fonts or scripts. Charts are inline SVG drawn by console.js.
enum ConsoleAssets {
    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    /// A user-typed name for the log: digits hidden (someone may type an SSN in the name field), at most 64 characters.
    static func printable(_ name: String) -> String {
        String(TerminalText.printable(name).prefix(64).map { $0.isNumber ? "#" : ($0.isASCII ? $0 : "?") })
    }

    static func head(title: String, csrf: String) -> String {
        """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="csrf-token" content="\(escape(csrf))">
        <title>\(escape(title)) · csworker console</title>
        <link rel="stylesheet" href="/assets/console.css">
        </head>
        """
    }

    static func login(csrf: String, message: String?) -> String {
        head(title: "Sign in", csrf: "") + """
        <body class="login">
        <main id="page" data-page="login">
        <h1>csworker console</h1>
        <p class="muted">Child support case processing: timeliness, caseload and operations.</p>
        \(message.map { "<p class=\"error\" role=\"alert\">\(escape($0))</p>" } ?? "")
        <form id="login" method="post" action="/login">
        <input type="hidden" name="csrf" value="\(escape(csrf))">
        <label>Name <input name="name" autocomplete="username" required autofocus></label>
        <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
        <button type="submit">Sign in</button>
        </form>
        </main>
        </body>
        </html>
        """
    }

    static func shell(page: String, title: String, api: String, session: ConsoleSessions.Session) -> String {
        let links = [("/timeliness", "Timeliness"), ("/caseload", "Caseload"), ("/operations", "Operations"), ("/group", "Group"), ("/deadletters", "Dead letters")]
        let nav = links.map { "<a href=\"\($0.0)\">\($0.1)</a>" }.joined(separator: "\n")
        return head(title: title, csrf: session.csrfToken) + """
        <body>
        <header>
        <nav>
        <strong class="brand">csworker</strong>
        \(nav)
        </nav>
        <form id="case-search" method="get" action="/cases">
        <input name="caseId" placeholder="Case id, e.g. CS-0000042" aria-label="Case id" required>
        <button type="submit">Open case</button>
        </form>
        <div class="who"><span id="user">\(escape(session.user.name)) (\(session.user.role.rawValue))</span>
        <form id="logout" method="post" action="/logout"><input type="hidden" name="csrf" value="\(escape(session.csrfToken))"><button type="submit">Sign out</button></form>
        </div>
        </header>
        <main id="page" data-page="\(escape(page))" data-api="\(escape(api))" data-role="\(session.user.role.rawValue)">
        <p class="muted">Loading…</p>
        </main>
        <script src="/assets/console.js"></script>
        </body>
        </html>
        """
    }

    static let css = """
        :root { --ink: #1d2733; --muted: #5b6776; --line: #d7dde4; --accent: #1f5f99; --bad: #a4262c; --warn: #8a5a00; --bg: #f6f8fa; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg); }
        header { display: flex; flex-wrap: wrap; gap: .75rem 1.5rem; align-items: center; padding: .6rem 1.2rem; background: #fff; border-bottom: 1px solid var(--line); }
        nav { display: flex; flex-wrap: wrap; gap: .4rem 1rem; align-items: center; }
        nav a { color: var(--accent); text-decoration: none; font-weight: 600; }
        nav a:hover { text-decoration: underline; }
        .brand { margin-right: .5rem; }
        .who { margin-left: auto; display: flex; gap: .6rem; align-items: center; color: var(--muted); }
        form { margin: 0; }
        #case-search { display: flex; gap: .4rem; }
        input, select, button { font: inherit; padding: .3rem .55rem; border: 1px solid var(--line); border-radius: 4px; }
        button { background: var(--accent); color: #fff; border-color: var(--accent); cursor: pointer; }
        button.secondary, #logout button { background: #fff; color: var(--accent); }
        main { padding: 1rem 1.2rem 3rem; max-width: 1400px; }
        h1 { font-size: 1.35rem; margin: .2rem 0 1rem; }
        h2 { font-size: 1.05rem; margin: 0 0 .4rem; }
        .muted { color: var(--muted); }
        .error { color: var(--bad); font-weight: 600; }
        .grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(300px, 1fr)); gap: 1rem; }
        .grid.wide { grid-template-columns: minmax(260px, 1fr) minmax(0, 2fr); }
        .card { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: .9rem 1rem; min-width: 0; }
        .figures { display: flex; gap: 1.4rem; margin: .4rem 0; flex-wrap: wrap; }
        .figure b { display: block; font-size: 1.6rem; line-height: 1.2; }
        .figure.bad b { color: var(--bad); }
        .figure.warn b { color: var(--warn); }
        .state { font-weight: 600; }
        .state.gone, .state.left { color: var(--muted); }
        .state.gone { color: var(--bad); }
        section.card + section.card { margin-top: 1rem; }
        table { border-collapse: collapse; width: 100%; background: #fff; }
        th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
        th { font-weight: 600; color: var(--muted); }
        td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
        .scroll { overflow-x: auto; }
        svg { display: block; width: 100%; height: auto; }
        svg .bar { fill: var(--accent); }
        svg .bar.bad { fill: var(--bad); }
        svg text { font-size: 10px; fill: var(--muted); }
        body.login main { max-width: 380px; margin: 10vh auto; background: #fff; border: 1px solid var(--line); border-radius: 6px; }
        #login { display: grid; gap: .8rem; }
        #login label { display: grid; gap: .2rem; }
        @media (max-width: 700px) {
          header { padding: .5rem .7rem; }
          .who { margin-left: 0; }
          main { padding: .8rem .7rem 2rem; }
          .grid, .grid.wide { grid-template-columns: 1fr; }
          th, td { padding: .3rem .3rem; font-size: 14px; }
        }
        """

    static let js = #"""
        "use strict";
        (function () {
          const main = document.getElementById("page");
          if (!main || !main.dataset.api) return;
          const csrf = document.querySelector('meta[name="csrf-token"]').content;
          const role = main.dataset.role;

          function el(tag, attrs, ...children) {
            const node = document.createElement(tag);
            for (const [key, value] of Object.entries(attrs || {})) {
              if (value === null || value === undefined) continue;
              if (key === "text") node.textContent = value; else node.setAttribute(key, value);
            }
            for (const child of children.flat()) {
              if (child === null || child === undefined) continue;
              node.append(child instanceof Node ? child : document.createTextNode(String(child)));
            }
            return node;
          }
          const count = (n) => Number(n || 0).toLocaleString("en-US");
          const dollars = (cents) => (cents < 0 ? "-$" : "$") + (Math.abs(cents) / 100).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
          const age = (s) => s < 120 ? Math.round(s) + " s" : s < 7200 ? Math.round(s / 60) + " min" : s < 172800 ? (s / 3600).toFixed(1) + " h" : (s / 86400).toFixed(1) + " d";
          function figure(name, label, value, cls) {
            return el("div", { class: "figure " + (cls || "") }, el("b", { "data-figure": name, text: value }), el("span", { class: "muted", text: label }));
          }
          function table(headers, rows) {
            return el("div", { class: "scroll" }, el("table", {}, el("thead", {}, el("tr", {}, headers.map((h) => el("th", { class: h.num ? "num" : null, text: h.label || h })))), el("tbody", {}, rows)));
          }
          function bars(values, labels, cls, height) {
            const ns = "http://www.w3.org/2000/svg";
            const width = 600, h = height || 120, top = Math.max(1, ...values);
            const svg = document.createElementNS(ns, "svg");
            svg.setAttribute("viewBox", `0 0 ${width} ${h + 16}`);
            svg.setAttribute("class", cls);
            svg.setAttribute("role", "img");
            const step = width / Math.max(1, values.length);
            values.forEach((value, i) => {
              const rect = document.createElementNS(ns, "rect");
              const barHeight = Math.round((value / top) * h);
              rect.setAttribute("x", String(i * step + 1));
              rect.setAttribute("y", String(h - barHeight));
              rect.setAttribute("width", String(Math.max(1, step - 2)));
              rect.setAttribute("height", String(barHeight));
              rect.setAttribute("class", "bar" + (cls === "weekly-chart" && value > 0 ? " bad" : ""));
              const title = document.createElementNS(ns, "title");
              title.textContent = (labels[i] || "") + ": " + value;
              rect.append(title);
              svg.append(rect);
              if (labels[i] && (values.length <= 12 || i % Math.ceil(values.length / 12) === 0)) {
                const text = document.createElementNS(ns, "text");
                text.setAttribute("x", String(i * step + 2));
                text.setAttribute("y", String(h + 12));
                text.textContent = labels[i];
                svg.append(text);
              }
            });
            return svg;
          }
          const caseLink = (id) => el("a", { href: "/cases/" + encodeURIComponent(id), text: id });

          const render = {
            timeliness(data) {
              return [
                el("h1", { text: "Timeliness" }),
                el("p", { class: "muted", text: `Federal timeframes as of ${data.today} (${data.zone}). Past: open work beyond its deadline now. Due soon: deadline within 7 days. Bars: items that missed their deadline, by the week it fell in (last 12 weeks).` }),
                el("div", { class: "grid" }, data.timeframes.map((t) => el("section", { class: "card", "data-timeframe": t.id },
                  el("h2", { text: t.title }),
                  el("p", { class: "muted", text: `${t.rule} (${t.citation})` }),
                  el("div", { class: "figures" },
                    figure("past:" + t.id, "past the timeframe", count(t.past), t.past > 0 ? "bad" : ""),
                    figure("due-soon:" + t.id, "due within 7 days", count(t.dueSoon), t.dueSoon > 0 ? "warn" : "")),
                  bars(t.weekly.map((w) => w.count), t.weekly.map((w) => w.weekOf.slice(5)), "weekly-chart", 70),
                  el("p", {}, el("a", { href: "/timeliness/" + t.id, "data-drill": "past:" + t.id, text: "Cases past it" }), " · ",
                    el("a", { href: "/timeliness/" + t.id + "?dueSoon=1", "data-drill": "due-soon:" + t.id, text: "Due soon" })))))
              ];
            },
            caseload(data) {
              const drill = (q, label, value, name) => el("a", { href: "/caseload/cases?" + q, "data-drill": name }, el("span", { "data-figure": name, text: count(value) }), label ? " " + label : "");
              return [
                el("h1", { text: "Caseload" }),
                el("div", { class: "figures" }, figure("cases-total", "cases", count(data.total))),
                el("div", { class: "grid" },
                  el("section", { class: "card" }, el("h2", { text: "Cases by stage" }),
                    table(["Stage", { label: "Cases", num: true }], data.stages.map((s) => el("tr", {}, el("td", { text: s }), el("td", { class: "num" }, drill("stage=" + s, "", (data.byStage[s] || 0), "stage:" + s)))))),
                  el("section", { class: "card" }, el("h2", { text: "Cases by program" }),
                    table(["Program", { label: "Cases", num: true }], data.programs.map((p) => el("tr", {}, el("td", { text: p }), el("td", { class: "num" }, drill("program=" + p, "", (data.byProgram[p] || 0), "program:" + p)))))),
                  el("section", { class: "card" }, el("h2", { text: "Active enforcement referrals" }),
                    table(["Referral", { label: "Cases", num: true }], data.referralTypes.map((r) => el("tr", {}, el("td", { text: r }), el("td", { class: "num" }, drill("referral=" + r, "", (data.activeReferralsByType[r] || 0), "referral:" + r)))))),
                  el("section", { class: "card" }, el("h2", { text: "Open processes" }),
                    table(["Process", { label: "Cases", num: true }], (data.processes || []).map((p) => el("tr", {}, el("td", { text: p }), el("td", { class: "num" }, drill("process=" + p, "", ((data.inProcess || {})[p] || 0), "process:" + p))))))),
                el("section", { class: "card" }, el("h2", { text: "Stage by program" }),
                  table(["Stage"].concat(data.programs.map((p) => ({ label: p, num: true }))), data.stages.map((s) => el("tr", {}, el("td", { text: s }),
                    data.programs.map((p) => el("td", { class: "num" }, el("a", { href: `/caseload/cases?stage=${s}&program=${p}`, text: count((data.byStageAndProgram[s] || {})[p] || 0) })))))))
              ];
            },
            "case-list"(data) {
              if (data.items) {
                return [
                  el("h1", { text: data.title + (data.dueSoon ? ": due within 7 days" : ": past the timeframe") }),
                  el("p", { class: "muted", text: data.rule + ". As of " + data.today + ". " + data.items.length + " shown (at most 500)." }),
                  table(["Case", "Deadline", { label: data.dueSoon ? "Days left" : "Days past", num: true }, "Detail"], data.items.map((i) =>
                    el("tr", { "data-case-id": i.caseId }, el("td", {}, caseLink(i.caseId)), el("td", { text: i.deadline }), el("td", { class: "num", text: String(Math.abs(i.daysPast)) }), el("td", { text: i.detail }))))
                ];
              }
              const filter = Object.entries(data.filter).map(([k, v]) => `${k} ${v}`).join(", ") || "all";
              return [
                el("h1", { text: "Cases: " + filter }),
                el("p", { class: "muted", text: data.cases.length + " shown (at most 500)." }),
                table(["Case", "Program", "Stage", { label: "Arrears", num: true }, "Opened"], data.cases.map((c) =>
                  el("tr", { "data-case-id": c.caseId }, el("td", {}, caseLink(c.caseId)), el("td", { text: c.program }), el("td", { text: c.stage }), el("td", { class: "num", text: dollars(c.arrearsCents) }), el("td", { text: c.openedOn }))))
              ];
            },
            "case"(c) {
              const parties = (c.parties || []).map((p) => el("tr", {}, el("td", { text: p.role }), el("td", { text: p.name }), el("td", { text: p.ssn || "unknown" })));
              const referrals = (c.referrals || []).map((r) => el("tr", { "data-referral": r.type }, el("td", { text: r.type }), el("td", { text: r.issuedOn }), el("td", { class: "num", text: dollars(r.arrearsCents) }), el("td", { text: r.basis || "" })));
              const money = (n) => el("td", { class: "num", text: dollars(n) });
              const collectionNotes = (x) => [
                x.heldUntil ? `held until ${x.heldUntil} (joint return)` : "",
                x.refundCents ? `refund ${dollars(x.refundCents)}` : "",
                ...(x.reversals || []).map((r) => `reversed ${dollars(r.amountCents)} on ${r.reversedOn} (${r.reason})`),
                x.returned ? `returned ${x.returned.returnedOn} (${x.returned.reason}), ${x.returned.reissuedOn ? "sent again " + x.returned.reissuedOn : "held for a new address"}` : "",
              ].filter((t) => t).join("; ");
              const collections = (c.collections || []).map((x) => el("tr", { "data-collection": x.collectionId || x.paymentId },
                el("td", { text: x.receivedOn }), el("td", { text: x.source }), el("td", { text: x.collectionId || "" }), money(x.amountCents),
                money(x.toCurrentSupportCents), money(x.toArrearsCents), money(x.heldCents), money(x.disbursedToFamilyCents),
                money(x.retainedByStateCents), el("td", { text: collectionNotes(x) })));
              const adjustments = (c.adjustments || []).map((a) => el("tr", {}, el("td", { text: a.effectiveOn }), el("td", { text: a.adjustmentId }),
                el("td", { text: a.reason }), money(a.amountCents)));
              const account = (c.ledger || []).map((l) => el("tr", {}, el("td", { text: l.date }), el("td", { text: l.kind }), money(l.amountCents), el("td", { text: l.referenceId })));
              return [
                el("h1", { text: "Case " + c.caseId }),
                el("div", { class: "figures" },
                  el("div", { class: "figure" }, el("b", { "data-figure": "stage", text: c.stage }), el("span", { class: "muted", text: "stage" })),
                  el("div", { class: "figure" }, el("b", { "data-figure": "arrears", text: dollars(c.arrearsCents) }), el("span", { class: "muted", text: "arrears as of " + c.asOf })),
                  el("div", { class: "figure" }, el("b", { "data-figure": "monthly-support", text: dollars(c.monthlySupportCents || 0) }), el("span", { class: "muted", text: "monthly support" })),
                  el("div", { class: "figure" }, el("b", { text: c.program }), el("span", { class: "muted", text: "program" }))),
                el("div", { class: "grid" },
                  el("section", { class: "card" }, el("h2", { text: "Parties" }), table(["Role", "Name", "SSN"], parties)),
                  el("section", { class: "card" }, el("h2", { text: "Employer" }), el("p", { text: c.employer ? `${c.employer.name || ""} (FEIN ${c.employer.fein})` : "none known" })),
                  el("section", { class: "card" }, el("h2", { text: "Active referrals" }), referrals.length ? table(["Type", "Issued", { label: "Arrears then", num: true }, "Why"], referrals) : el("p", { class: "muted", text: "none" }))),
                el("h2", { text: "Collections" }),
                collections.length ? table(["Received", "Source", "Collection", { label: "Amount", num: true }, { label: "Current support", num: true },
                  { label: "Arrears", num: true }, { label: "Held", num: true }, { label: "Family", num: true }, { label: "State", num: true }, "Notes"], collections)
                  : el("p", { class: "muted", text: "none received" }),
                (c.pending || []).length ? el("section", { class: "card" }, el("h2", { text: "Pending" }),
                  table(["Process", "Since", "Due", "Detail"], c.pending.map((p) => el("tr", { "data-pending": p.process },
                    el("td", { text: p.process }), el("td", { text: p.since }), el("td", { text: p.dueOn || "on an answer" }), el("td", { text: p.detail }))))) : "",
                adjustments.length ? el("section", { class: "card" }, el("h2", { text: "Adjustments" }),
                  table(["Effective", "Adjustment", "Reason", { label: "Amount", num: true }], adjustments)) : "",
                el("details", {}, el("summary", { text: `Account lines through ${c.asOf} (${account.length})` }),
                  table(["Date", "Line", { label: "Amount", num: true }, "Order or payment"], account)),
                el("h2", { text: "History" }),
                table(["Occurred", "Event", "Changes", "Tasks"], (c.history || []).map((h) => el("tr", { "data-event-id": h.eventId },
                  el("td", { text: h.occurredAt }), el("td", { text: h.eventType }),
                  el("td", {}, (h.changes || []).map((x) => el("div", { text: x }))),
                  el("td", {}, (h.tasks || []).map((t) => el("div", { text: `${t.action} ${t.type} due ${t.dueBy || ""}` }))))))
              ];
            },
            operations(data) {
              const applied = data.appliedPerMinute;
              const minutes = [];
              const byMinute = new Map(applied.map((a) => [a.minute.slice(0, 16), a.count]));
              const now = new Date();
              for (let i = 179; i >= 0; i--) {
                const t = new Date(now.getTime() - i * 60000);
                minutes.push(t.toISOString().slice(0, 16));
              }
              const classes = Object.entries(data.deadLettersByClass).sort();
              return [
                el("h1", { text: "Operations" }),
                el("div", { class: "figures" },
                  figure("lag-total", "consumer lag (records)", data.lag ? count(data.lag.total) : "n/a"),
                  figure("outbox-backlog", "outbox backlog" + (data.outbox.backlog ? `, oldest ${age(data.outbox.oldestSeconds)}` : ""), count(data.outbox.backlog), data.outbox.backlog ? "warn" : ""),
                  figure("waiting", "events waiting for their case or order" + (data.waiting.forCase + data.waiting.forOrder ? `, oldest ${age(data.waiting.oldestSeconds)}` : ""), count(data.waiting.forCase + data.waiting.forOrder)),
                  figure("outbox-set-aside", "outbox messages set aside (refused by the broker)", count(data.outbox.setAside), data.outbox.setAside ? "bad" : ""),
                  figure("waiting-person", "employer reports about people on no case", count(data.waiting.forPerson))),
                el("section", { class: "card" }, el("h2", { text: "Events applied per minute, last 3 hours" }),
                  bars(minutes.map((m) => byMinute.get(m) || 0), minutes.map((m) => new Date(m + ":00Z").toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })), "applied-chart", 120)),
                data.setAside.length ? el("section", { class: "card" }, el("h2", { text: "Outbox messages set aside (retry or drop: csworker outbox)" }),
                  table(["Set aside", "Topic", { label: "Bytes", num: true }, "Reason", "Id"], data.setAside.map((m) => el("tr", { "data-set-aside-id": m.id },
                    el("td", { text: m.setAsideAt }), el("td", { text: m.topic }), el("td", { class: "num", text: count(m.bytes) }), el("td", { text: m.reason }), el("td", { text: m.id }))))) : null,
                el("div", { class: "grid wide" },
                  el("section", { class: "card" }, el("h2", { text: "Dead letters by class" }),
                    classes.length ? table(["Class", { label: "Dead letters", num: true }], classes.map(([k, v]) => el("tr", {}, el("td", { text: k }), el("td", { class: "num" }, el("span", { "data-figure": "deadletters:" + k, text: count(v) })))))
                      : el("p", { class: "muted", text: "none" })),
                  el("section", { class: "card" }, el("h2", { text: "Consumer lag by partition" + (data.lag ? ` (group ${data.lag.group})` : "") }),
                    data.lag ? table(["Partition", { label: "Committed", num: true }, { label: "End", num: true }, { label: "Lag", num: true }], data.lag.partitions.map((p) =>
                      el("tr", { "data-partition": `${p.topic}[${p.partition}]` }, el("td", { text: `${p.topic}[${p.partition}]` }), el("td", { class: "num", text: p.committed === null ? "none" : count(p.committed) }), el("td", { class: "num", text: count(p.end) }), el("td", { class: "num", text: count(p.lag) }))))
                      : el("p", { class: "error", text: data.lagError || "unavailable" })))
              ];
            },
            group(data) {
              const active = data.members.filter((m) => m.state === "active");
              const held = active.reduce((n, m) => n + m.partitions.length, 0);
              const partitions = data.lag ? data.lag.partitions.length : null;
              const name = (p) => `${p.topic}[${p.partition}]`;
              // Figures only where a partition is shown as held now: a gone member's rows repeat partitions others hold.
              const figureName = (prefix, p, m) => !m || m.state === "active" ? prefix + name(p) : null;
              const lastCommit = (p, m) => el("td", {}, p.lastCommitOffset === null ? "none yet" : ["offset ", el("span", { "data-figure": figureName("last-commit:", p, m), text: count(p.lastCommitOffset) }), ` at ${p.lastCommitAt}` +
                (p.lastCommitBy && (!m || p.lastCommitBy.memberId !== m.memberId) ? ` (by ${p.lastCommitBy.host}, pid ${p.lastCommitBy.pid}${m ? ", before it" : ""})` : "")]);
              const member = (m) => el("section", { class: "card", "data-member": m.memberId },
                el("h2", {}, `${m.host} (pid ${m.pid}) `, el("span", { class: "state " + m.state, "data-member-state": m.state, text: m.state })),
                el("p", { class: "muted", text: `Started ${m.startedAt}; assignment since ${m.assignedAt || "none yet"}; ` +
                  (m.leftAt ? `left ${m.leftAt}.` : `last seen ${age(m.silentSeconds)} ago.`) + ` Member ${m.memberId}.` }),
                m.partitions.length ? table(["Partition", { label: "Lag", num: true }, { label: "Committed", num: true }, { label: "End", num: true }, "Last commit"],
                  m.partitions.map((p) => el("tr", { "data-member-partition": name(p) },
                    el("td", { text: name(p) }),
                    el("td", { class: "num" }, el("span", { "data-figure": figureName("lag:", p, m), text: p.lag === null ? "n/a" : count(p.lag) })),
                    el("td", { class: "num", text: p.committed === null ? "none" : count(p.committed) }),
                    el("td", { class: "num", text: p.end === null ? "n/a" : count(p.end) }),
                    lastCommit(p, m))))
                  : el("p", { class: "muted", text: m.state === "active" ? "no partitions assigned" : "holds nothing" }));
              const topics = data.outbox.topics;
              return [
                el("h1", { text: "Group " + data.group }),
                el("p", { class: "muted", text: `Each worker records its partitions and commits every few seconds; one silent for ${data.goneAfterSeconds} s is shown as gone. Lag: high watermark minus the group's committed offset, from the brokers.` }),
                el("div", { class: "figures" },
                  figure("members-active", "members running", count(active.length)),
                  figure("partitions-held", "partitions held" + (partitions === null ? "" : ` of ${partitions}`), count(held), partitions !== null && held < partitions ? "warn" : ""),
                  figure("group-lag", "lag (records)", data.lag ? count(data.lag.total) : "n/a"),
                  figure("outbox-waiting", "outbox messages waiting", count(data.outbox.waiting), data.outbox.waiting ? "warn" : ""),
                  figure("outbox-set-aside", "outbox messages set aside", count(data.outbox.setAside), data.outbox.setAside ? "bad" : "")),
                data.lag ? null : el("p", { class: "error", text: "Lag unavailable: " + (data.lagError || "unknown") }),
                data.members.length ? data.members.map(member) : el("section", { class: "card" }, el("p", { class: "muted", text: "No worker has recorded its membership yet." })),
                data.unassigned.length ? el("section", { class: "card" }, el("h2", { text: "Partitions no running member holds" }),
                  table(["Partition", { label: "Lag", num: true }, "Last commit"], data.unassigned.map((p) => el("tr", { "data-unassigned": name(p) }, el("td", { text: name(p) }),
                    el("td", { class: "num" }, el("span", { "data-figure": "lag:" + name(p), text: count(p.lag) })), lastCommit(p, null))))) : null,
                el("section", { class: "card" }, el("h2", { text: "Outbox by topic" }),
                  topics.length ? table(["Topic", { label: "Waiting", num: true }, "Oldest waiting", { label: "Set aside", num: true }], topics.map((t) =>
                    el("tr", { "data-outbox-topic": t.topic }, el("td", { text: t.topic }),
                      el("td", { class: "num" }, el("span", { "data-figure": "outbox-waiting:" + t.topic, text: count(t.waiting) })),
                      el("td", { text: t.waiting ? age(t.oldestWaitingSeconds) : "" }),
                      el("td", { class: "num" }, el("span", { "data-figure": "outbox-set-aside:" + t.topic, text: count(t.setAside) })))))
                    : el("p", { class: "muted", text: "Nothing waiting or set aside." })),
              ].flat().filter(Boolean);
            },
            deadletters(data) {
              const canReplay = data.canReplay && role === "operator";
              const rows = data.deadLetters.map((d) => el("tr", { "data-deadletter-id": d.id },
                el("td", { text: d.when }), el("td", { text: d.errorClass }), el("td", { text: d.reason }),
                el("td", { text: `${d.sourceTopic}[${d.sourcePartition}]@${d.sourceOffset}` }),
                el("td", { class: "replayed", text: (d.replayedBy ? `replayed by ${d.replayedBy} at ${d.replayedAt}` : (d.replayedAt ? "replayed at " + d.replayedAt : "")) + (d.replayOf ? ` (failed again: replay of ${d.replayOf}, attempt ${d.attempts})` : "") }),
                canReplay ? el("td", {}, el("button", { class: "replay secondary", type: "button", "data-id": d.id, text: "Replay" })) : null));
              const headers = ["When", "Class", "Reason", "Source", "Replayed"].concat(canReplay ? [""] : []);
              const out = [el("h1", { text: "Dead letters" }), el("p", { class: "muted", text: `${data.deadLetters.length} shown, newest first (at most 500). Payloads are never shown.` })];
              if (canReplay && data.classes.length) {
                out.push(el("form", { id: "replay-class", class: "card" }, el("label", {}, "Replay every dead letter of class ",
                  el("select", { name: "errorClass" }, data.classes.map((c) => el("option", { value: c, text: c })))), " ", el("button", { type: "submit", text: "Replay class" })));
              }
              out.push(el("p", { id: "replay-result", class: "muted", role: "status" }));
              out.push(table(headers, rows));
              return out;
            },
          };

          async function replay(body) {
            const result = document.getElementById("replay-result");
            const response = await fetch("/api/deadletters/replay", { method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf }, body: JSON.stringify(body) });
            const answer = await response.json().catch(() => ({}));
            if (!response.ok) { result.className = "error"; result.textContent = answer.error || ("replay failed: " + response.status); return; }
            result.className = "muted";
            result.textContent = `${answer.replayed} replayed, ${answer.skipped.length} skipped.`;
            await load();
            document.getElementById("replay-result").textContent = `${answer.replayed} replayed, ${answer.skipped.length} skipped.`;
          }

          async function load() {
            main.dataset.loaded = "false";
            try {
              const response = await fetch(main.dataset.api, { credentials: "same-origin", headers: { Accept: "application/json" } });
              if (response.status === 401) { window.location.assign("/login"); return; }
              const data = await response.json();
              main.replaceChildren(...(response.ok ? render[main.dataset.page](data).filter((n) => n) : [el("h1", { text: "Not available" }), el("p", { class: "error", text: data.error || String(response.status) })]));
            } catch (error) {
              main.replaceChildren(el("p", { class: "error", text: "Could not load: " + error }));
            }
            for (const button of main.querySelectorAll("button.replay")) button.addEventListener("click", () => replay({ ids: [button.dataset.id] }));
            const form = document.getElementById("replay-class");
            if (form) form.addEventListener("submit", (event) => { event.preventDefault(); replay({ errorClass: form.elements.errorClass.value }); });
            main.dataset.loaded = "true";
          }
          load();
        })();
        """#
}
