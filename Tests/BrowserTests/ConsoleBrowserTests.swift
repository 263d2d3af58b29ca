import Foundation
import TestSupport
import Testing

/// The web console in a real headless Chromium (Debian `chromium` + `chromium-driver`, Selenium
/// from PyPI, both installed by scripts/install-deps.sh) against a real `agritrace serve` over
/// HTTPS, with the example chain ingested through a real agent and broker, principals on the
/// ledger and one request denied by the regulator's matcher. The browser part is
/// `Tests/Browser/console_test.py`; it prints one PASS/FAIL line per check. Missing Chromium
/// or Selenium fails the test (it is never skipped). Screenshots: the path is printed.
@Suite("Console in a real browser", .serialized, .timeLimit(.minutes(6)))
struct ConsoleBrowserTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..")
        .standardized.path
    static let firm = "Firm/sales/alice@RETAIL1"
    static let regulator = "Regulator/inspector@FOODAGENCY"
    static let owner = "Firm/planting/farmer@FARM1"
    static let keeper = "Firm/warehouse/keeper@WH7"
    static let deniedSource = "10.30.0.9"
    static let secrets = ["Dr. Zhao Min, chief breeder", "Li Wei, farm manager", "Zhang Lei, driver", "NPK 15-15-15"]

    @Test func firmAndRegulatorUseTheConsoleInChromium() async throws {
        for tool in ["/usr/bin/chromium", "/usr/bin/chromedriver", "/usr/bin/certutil"] {
            #expect(
                FileManager.default.isExecutableFile(atPath: tool), "\(tool) is missing: run scripts/install-deps.sh")
        }
        let site = try await ConsoleSite.start()
        defer { site.stop() }
        // The set-up and the browser run block while they wait: on a thread of their own, not
        // on the test pool shared with every other suite.
        let (record, grant) = try await onOwnThread {
            try site.ingestExampleChain()
            try site.registerPrincipals()
            try site.denyOneRequest()
            return (try site.plantingRecordID(), try site.grantOneRequest())
        }
        // Kept after the test (the site's directory is removed): $AGRITRACE_TEST_ARTIFACTS or the temporary folder.
        let artifacts =
            (ProcessInfo.processInfo.environment["AGRITRACE_TEST_ARTIFACTS"] ?? NSTemporaryDirectory())
            + "/agritrace-console-screenshots-\(Int(Date().timeIntervalSince1970))"
        try FileManager.default.createDirectory(atPath: artifacts, withIntermediateDirectories: true)
        var arguments = [
            Self.root + "/Tests/Browser/console_test.py", "--base", site.origin, "--ca", site.certificates.caFile,
            "--firm", Self.firm, "--firm-link", try site.signInLink(Self.firm), "--regulator-link",
            try site.signInLink(Self.regulator), "--record", record, "--lot", "SA-2026-5521", "--denied-source",
            // Struck on the blacklist: the denied principal (its request's --source is only a
            // label, and a request queued with --store has no address observed by the gateway).
            Self.firm, "--artifacts", artifacts, "--owner-link", try site.signInLink(Self.owner), "--owner-key",
            site.keyFile(Self.owner), "--grant", grant, "--grant-lot", "PL-2026-0417", "--owner", Self.owner,
            "--keeper", Self.keeper,
        ]
        for secret in Self.secrets { arguments += ["--secret", secret] }
        let run = try BackgroundProcess(
            "/usr/bin/env", ["python3"] + arguments, logFile: site.directory.file("browser.log"))
        try await onOwnThread { run.process.waitUntilExit() }
        let output = run.log
        print("console browser test output:\n\(output)\nscreenshots in \(artifacts)")
        #expect(
            run.process.terminationStatus == 0,
            "the browser checks failed:\n\(output)\nserver: \(site.server.log.suffix(3000))")
        for check in [
            "PASS trace picture shows all six stages", "PASS in-browser proof check: valid for the real proof",
            "PASS in-browser proof check: invalid for a tampered entry",
            "PASS the denied request's source is on the blacklist page", "PASS firm: regulator page answers 403",
            "PASS no session: /console/trace answers 401", "PASS session cookie is Secure, HttpOnly, SameSite=Strict",
            "PASS no private value on the trace page", "PASS the EPCIS download answers the lot's EPCISDocument",
            "PASS the FSMA 204 download answers the lot's spreadsheet", "PASS every input has a label",
            "PASS owner: the grant is revoked in the browser, with its ledger leaf",
            "PASS non-owner: preparing the owner's revocation answers 403",
            "PASS regulator: the lot's provenance shows the owner's revocation of the grant",
            "PASS a provenance row's proof checks in the browser", "all passed",
        ] {
            #expect(output.contains(check), "missing: \(check)")
        }
        // The revocation signed in Chromium is on the ledger, as the CLI sees it.
        let revoked = try site.grants().first { $0["requestID"] as? String == grant }?["revoked"] as? Bool
        #expect(revoked == true, "grants list does not show \(grant) revoked")
        let screenshots = (try? FileManager.default.contentsOfDirectory(atPath: artifacts)) ?? []
        #expect(screenshots.filter { $0.hasSuffix(".png") }.count >= 12, "\(screenshots)")
    }
}
