import ArgumentParser
import Foundation
import LedgerAPI

/// `agritrace console`: the web console served by `serve` / `api` under `/console/` (docs/console.md).
struct ConsoleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console",
        abstract: "The web console (served by `serve` and `api` under /console/): sign-in links.",
        subcommands: [Login.self])

    struct Login: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Print a short-lived, single-use console sign-in link signed with a principal's registered key.")

        @Option(name: .long, help: "The principal name, as registered (e.g. Regulator/inspector@FOODAGENCY).")
        var principal: String
        @Option(name: .long, help: "The principal's Ed25519 private key file (hex, mode 0600: its transaction key).")
        var key: String
        @Option(name: .long, help: "The console's origin as the browser opens it, e.g. https://agritrace.example:8443.")
        var url: String
        @Option(name: .long, help: "Seconds the link stays valid (at most 600).")
        var lifetime: Int64 = 300

        func validate() throws {
            guard url.hasPrefix("https://") || url.hasPrefix("http://") else {
                throw ValidationError("--url is the console's origin, https://HOST:PORT")
            }
            guard (1...ConsoleSignIn.maximumLifetime).contains(lifetime) else {
                throw ValidationError("--lifetime is 1 to \(ConsoleSignIn.maximumLifetime) seconds")
            }
        }

        func run() throws {
            let signingKey = try Keys.readPrivateKey(file: key)
            var origin = url
            while origin.hasSuffix("/") { origin.removeLast() }
            if let console = origin.range(of: "/console") { origin = String(origin[..<console.lowerBound]) }
            let link = try ConsoleSignIn(
                origin: origin, principal: principal, key: signingKey, now: Int64(Date().timeIntervalSince1970),
                lifetime: lifetime)
            print(link.link)
        }
    }
}
