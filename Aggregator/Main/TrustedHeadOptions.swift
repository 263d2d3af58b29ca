import ArgumentParser
import Crypto
import LedgerClient

/// Where a command that checks a server's signed tree heads keeps the last one it accepted
/// from each log (``AcceptedTreeHead``): a new head is taken only with a consistency proof
/// from it, so a server that shows two views of one log is caught.
struct TrustedHeadOptions: ParsableArguments {
    @Option(
        name: .long,
        help:
            "With --api: the folder that keeps the last tree head accepted from each log; a new head is believed only with a consistency proof from it (default: $XDG_STATE_HOME/agritrace/trusted-heads or ~/.local/state/agritrace/trusted-heads)."
    )
    var trustedHeads: String?

    /// The accepted head of the log signed by `key`.
    func acceptedHead(of key: Curve25519.Signing.PublicKey) -> AcceptedTreeHead {
        AcceptedTreeHead(directory: trustedHeads ?? AcceptedTreeHead.defaultDirectory, key: key)
    }
}
