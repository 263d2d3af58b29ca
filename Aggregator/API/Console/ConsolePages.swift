/// The console's pages: shells with navigation and empty, labelled regions that
/// `console.js` fills from the API's JSON routes. Nothing from the store is rendered here;
/// the one dynamic value, the principal's name, is HTML-escaped.
enum ConsolePage: String, CaseIterable, Sendable {
    case ledger, trace, proof, regulator, owner

    var path: String { self == .ledger ? "/console" : "/console/\(rawValue)" }

    var title: String {
        switch self {
        case .ledger: "Ledger"
        case .trace: "Trace"
        case .proof: "Proof"
        case .regulator: "Regulator"
        case .owner: "Owner"
        }
    }

    /// Only regulators open the regulator page.
    func allows(_ role: ConsoleSession.Role) -> Bool { self != .regulator || role == .regulator }
}

enum ConsolePages {
    static func render(_ page: ConsolePage, session: ConsoleSession) -> String {
        let links = ConsolePage.allCases.filter { $0 != .proof && $0.allows(session.role) }.map {
            "<a href=\"\($0.path)\"\($0 == page ? " aria-current=\"page\"" : "")>\($0.title)</a>"
        }.joined(separator: "\n")
        return """
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(page.title) · AgriTrace console</title>
            <link rel="stylesheet" href="/console/assets/console.css">
            <script src="/console/assets/console.js" defer></script>
            </head>
            <body data-page="\(page.rawValue)">
            <a class="skip" href="#main">Skip to content</a>
            <header>
            <nav aria-label="Console">
            \(links)
            </nav>
            <p class="who">Signed in as <strong>\(escape(session.principal))</strong> (\(session.role.rawValue))
            <button type="button" id="sign-out">Sign out</button></p>
            </header>
            <main id="main" tabindex="-1">
            <h1>\(page.title)</h1>
            \(body(page))
            </main>
            </body>
            </html>
            """
    }

    static func body(_ page: ConsolePage) -> String {
        switch page {
        case .ledger: ledgerBody
        case .trace: traceBody
        case .proof: proofBody
        case .regulator: regulatorBody
        case .owner: ownerBody
        }
    }

    static let ledgerBody = """
        <section aria-labelledby="status-h"><h2 id="status-h">Status</h2><dl id="status"></dl></section>
        <section aria-labelledby="blocks-h"><h2 id="blocks-h">Recent blocks and signed tree heads</h2>
        <div class="scroll"><table id="blocks"><thead><tr><th scope="col">height</th><th scope="col">time</th><th scope="col">transactions</th><th scope="col">log size</th><th scope="col">log root</th></tr></thead><tbody></tbody></table></div>
        <button type="button" id="blocks-older">Older blocks</button></section>
        <section aria-labelledby="devices-h"><h2 id="devices-h">Devices</h2>
        <div class="scroll"><table id="devices"><thead><tr><th scope="col">enterprise</th><th scope="col">device</th><th scope="col">stage</th><th scope="col">status</th><th scope="col">registered at</th></tr></thead><tbody></tbody></table></div></section>
        <section aria-labelledby="principals-h"><h2 id="principals-h">Principals</h2>
        <div class="scroll"><table id="principals"><thead><tr><th scope="col">name</th><th scope="col">kind</th><th scope="col">enterprise</th><th scope="col">role</th><th scope="col">status</th></tr></thead><tbody></tbody></table></div>
        <button type="button" id="principals-more">More principals</button></section>
        """

    static let traceBody = """
        <form id="trace-form">
        <label for="lot">Lot</label> <input id="lot" name="lot" required autocomplete="off">
        <button type="submit">Trace</button>
        </form>
        <p id="trace-status" role="status"></p>
        <section id="downloads-section" aria-labelledby="downloads-h" hidden><h2 id="downloads-h">Downloads</h2><ul id="downloads"></ul></section>
        <section aria-labelledby="graph-h"><h2 id="graph-h">Backward and forward graph</h2><div id="graph" class="scroll"></div></section>
        <section aria-labelledby="records-h"><h2 id="records-h">Records (public fields and commitments)</h2><div id="records"></div></section>
        """

    static let proofBody = """
        <p>Checks an inclusion proof here, in the browser, with WebCrypto: the Ed25519 signature of the
        tree head under the authority key, and the RFC 9162 audit path from the entry's leaf hash to the signed root.</p>
        <form id="proof-form">
        <label for="authority">Authority public key (hex; compare it with your own copy)</label>
        <input id="authority" name="authority" autocomplete="off" spellcheck="false">
        <label for="proof-json">Proof (JSON from the API or <code>agritrace proof</code>)</label>
        <textarea id="proof-json" name="proof" rows="10" spellcheck="false"></textarea>
        <button type="submit" id="check-proof">Check</button>
        </form>
        <section aria-labelledby="result-h"><h2 id="result-h">Result</h2>
        <p id="proof-result" role="status" aria-live="polite">not checked yet</p><ol id="proof-checks"></ol></section>
        """

    static let regulatorBody = """
        <section aria-labelledby="matches-h"><h2 id="matches-h">Match results</h2>
        <div class="scroll"><table id="matches"><thead><tr><th scope="col">request</th><th scope="col">requester</th><th scope="col">lot</th><th scope="col">level</th><th scope="col">source</th><th scope="col">status</th><th scope="col">reason</th><th scope="col">proof</th></tr></thead><tbody></tbody></table></div></section>
        <section aria-labelledby="blacklist-h"><h2 id="blacklist-h">Blacklist</h2>
        <div class="scroll"><table id="blacklist"><thead><tr><th scope="col">source</th><th scope="col">strikes</th><th scope="col">blocked until</th><th scope="col">permanent</th><th scope="col">last strike</th><th scope="col">proof</th></tr></thead><tbody></tbody></table></div></section>
        <section aria-labelledby="events-h"><h2 id="events-h">Access events</h2>
        <form id="events-form"><label for="method">Method</label>
        <input id="method" name="method" autocomplete="off" placeholder="e.g. requestAccess">
        <button type="submit">Filter</button></form>
        <div class="scroll"><table id="events"><thead><tr><th scope="col">leaf</th><th scope="col">time</th><th scope="col">submitter</th><th scope="col">method</th><th scope="col">subject</th><th scope="col">outcome</th><th scope="col">proof</th></tr></thead><tbody></tbody></table></div></section>
        <section aria-labelledby="provenance-h"><h2 id="provenance-h">Provenance of a lot's private data</h2>
        <p>Where the lot's protected data went: redemptions, the owner's transfers, the requesters' reads, revocations. No private value is shown.</p>
        <form id="provenance-form"><label for="provenance-lot">Lot</label>
        <input id="provenance-lot" name="lot" autocomplete="off" placeholder="e.g. PL-2026-0417">
        <button type="submit">Show</button></form>
        <p id="provenance-status" role="status" aria-live="polite"></p>
        <div class="scroll"><table id="provenance"><thead><tr><th scope="col">leaf</th><th scope="col">time</th><th scope="col">event</th><th scope="col">by</th><th scope="col">to</th><th scope="col">level</th><th scope="col">status</th><th scope="col">detail</th><th scope="col">proof</th></tr></thead><tbody></tbody></table></div></section>
        """

    static let ownerBody = """
        <section aria-labelledby="entries-h"><h2 id="entries-h">Protected data (the policies stay hidden)</h2>
        <div class="scroll"><table id="entries"><thead><tr><th scope="col">data id</th><th scope="col">lot</th><th scope="col">level</th><th scope="col">window</th><th scope="col">actions</th><th scope="col">status</th><th scope="col">proof</th><th scope="col">revoke</th></tr></thead><tbody></tbody></table></div></section>
        <section aria-labelledby="grants-h"><h2 id="grants-h">Grants</h2>
        <div class="scroll"><table id="grants"><thead><tr><th scope="col">request</th><th scope="col">requester</th><th scope="col">lot</th><th scope="col">level</th><th scope="col">source</th><th scope="col">granted at</th><th scope="col">status</th><th scope="col">transfers</th><th scope="col">revoke</th></tr></thead><tbody></tbody></table></div></section>
        <form id="revoke-form" hidden aria-labelledby="revoke-h">
        <h2 id="revoke-h">Sign a revocation</h2>
        <p id="revoke-what"></p>
        <p>Your key file is read here, in the browser, to sign the transaction; it is never sent.</p>
        <label for="owner-key">Your Ed25519 key file (from <code>agritrace keygen</code>)</label>
        <input id="owner-key" name="key" type="file">
        <label for="revoke-reason">Reason (on the ledger)</label>
        <input id="revoke-reason" name="reason" autocomplete="off" value="revoked by the owner">
        <button type="submit" id="revoke-sign">Sign and revoke</button> <button type="button" id="revoke-cancel">Cancel</button>
        </form>
        <p id="revoke-status" role="status" aria-live="polite"></p>
        <section aria-labelledby="requests-h"><h2 id="requests-h">Requests for your lots</h2>
        <div class="scroll"><table id="owner-requests"><thead><tr><th scope="col">request</th><th scope="col">requester</th><th scope="col">lot</th><th scope="col">status</th><th scope="col">proof</th></tr></thead><tbody></tbody></table></div></section>
        """

    /// The page a valid sign-in link answers: it sets the cookie, then moves on to the console
    /// by a same-origin navigation (so the `SameSite=Strict` cookie is sent even when the link
    /// was opened from another site).
    static func signedIn(principal: String) -> String {
        """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta http-equiv="refresh" content="0; url=/console">
        <title>Signed in · AgriTrace console</title></head>
        <body><main><h1>Signed in</h1><p>Signed in as \(escape(principal)). <a href="/console">Open the console</a>.</p></main></body></html>
        """
    }

    static func message(title: String, text: String) -> String {
        """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(escape(title)) · AgriTrace console</title></head>
        <body><main><h1>\(escape(title))</h1><p id="message">\(escape(text))</p></main></body></html>
        """
    }

    static func escape(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
