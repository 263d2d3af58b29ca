import AgriTraceCore
import Crypto
import Ingest
import Ledger
import SQLiteStorage

/// Why a node cannot apply a proposal. Every node refuses the same proposal the same way.
public enum ProposalError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The proposal is not the next one.
    case outOfOrder(expected: UInt64, found: UInt64)
    /// Its block time is before the previous proposal's.
    case timeBackwards(height: UInt64, previous: Timestamp, found: Timestamp)
    /// A body it orders is not at hand (or does not hash to its digest).
    case missingBody(height: UInt64, digest: Digest32)

    public var description: String {
        switch self {
        case .outOfOrder(let expected, let found):
            "block proposal \(found) is not the next one: this node applied up to \(expected - 1)"
        case .timeBackwards(let height, let previous, let found):
            "block proposal \(height) has time \(found.milliseconds) ms, before the previous proposal's \(previous.milliseconds) ms"
        case .missingBody(let height, let digest):
            "block proposal \(height) orders body \(digest.hex), which is not at hand; fetch it before applying"
        }
    }
}

/// What applying one proposal gave: the checkpoint this node cosigns, and the answers to the
/// devices whose batches it held (receipts and rejections).
public struct AppliedProposal: Sendable {
    public var applied: AppliedCheckpoint
    /// The parsed checkpoint body.
    public var checkpoint: Checkpoint
    /// This node's cosignature over it.
    public var cosignature: SignedNote.Signature
    /// The answers of the record batches the proposal held, in order.
    public var answers: [PendingAnswer]
}

/// A consortium node's deterministic block application (docs/consortium.md, "Applying a
/// block"): each proposal's bodies are admitted in order through the ledger's admission and
/// the pure contracts with the proposal's block time, written as one ledger block, and the
/// log and state roots after it made into a checkpoint this node cosigns, all in one SQLite
/// transaction. Two nodes that apply the same proposals get byte-identical checkpoints.
///
/// Not `Sendable`: owned by one thread, like the ``Ledger`` it drives (which must admit
/// nothing else).
public final class ProposalApplier {
    public let ledger: Ledger
    /// The log's origin (the genesis's).
    public let origin: String
    let signer: NoteSigner
    let changes: StateChanges
    /// The last applied proposal, if any.
    public private(set) var latest: AppliedCheckpoint?

    /// Drives `ledger` (fresh, or one this applier wrote before), cosigning as `signer`.
    public init(ledger: Ledger, origin: String, signer: NoteSigner) throws {
        self.ledger = ledger
        self.origin = origin
        self.signer = signer
        changes = try StateChanges(recordingOn: ledger.store.db)
        latest = try ledger.store.latestCheckpoint()
    }

    /// Applies the next proposal, its bodies looked up by digest.
    /// - Throws: ``ProposalError`` before anything is written, or the store's error (nothing
    ///   written; the node should stop).
    public func apply(_ proposal: BlockProposal, bodies: [Digest32: ConsortiumBody]) throws -> AppliedProposal {
        try check(proposal, bodies: bodies)
        precondition(ledger.pendingCount == 0, "a consortium ledger admits only through its proposals")
        var answers: [PendingAnswer] = []
        for digest in proposal.bodies {
            if let answer = admit(bodies[digest]!), answer.isReady { answers.append(answer) }
        }
        let prepared = try ledger.prepareBlock(now: proposal.time)
        let store = ledger.store
        var result: AppliedProposal!
        do {
            try store.db.transaction {
                if let prepared { try Ledger.write(prepared, to: store) }
                result = try checkpoint(proposal, block: prepared?.block)
                try store.insertCheckpoint(result.applied)
            }
        } catch {
            if let prepared { ledger.abandonBlock(prepared) }
            throw error
        }
        if let prepared {
            answers += try ledger.finishBlockDeferringReceipts(prepared).resolve().answers
        }
        latest = result.applied
        result.answers = answers
        return result
    }

    func check(_ proposal: BlockProposal, bodies: [Digest32: ConsortiumBody]) throws(ProposalError) {
        let expected = (latest?.height ?? 0) + 1
        guard proposal.height == expected else { throw .outOfOrder(expected: expected, found: proposal.height) }
        if let previous = latest?.time, proposal.time < previous {
            throw .timeBackwards(height: proposal.height, previous: previous, found: proposal.time)
        }
        for digest in proposal.bodies where bodies[digest]?.digest != digest {
            throw .missingBody(height: proposal.height, digest: digest)
        }
    }

    /// Admits one body into the pending block; a refusal leaves it out (every node refuses it
    /// the same way). A record batch's answer is returned.
    func admit(_ body: ConsortiumBody) -> PendingAnswer? {
        switch body {
        case .recordBatch(let topic, let payload): return ledger.admit(topic: topic, payload: payload)
        case .registry(let bytes):
            try? ledger.admit(registry: Canonical.decode(Signed<RegistryTransaction>.self, from: bytes))
        case .access(let bytes, let observedAddress):
            guard let signed = try? Canonical.decode(Signed<AccessTransaction>.self, from: bytes) else { return nil }
            if let observedAddress {
                try? ledger.admit(relayed: GatewayAccess(observedAddress: observedAddress, transaction: signed))
            } else {
                try? ledger.admit(access: signed)
            }
        case .blob(let bytes): try? ledger.admit(blob: Canonical.decode(Signed<BlobReference>.self, from: bytes))
        }
        return nil
    }

    /// The checkpoint after `proposal` (whose ledger block, if it wrote one, is `block`),
    /// with the state root chained over the rows the block changed, and this node's cosignature.
    func checkpoint(_ proposal: BlockProposal, block: StoredBlock?) throws -> AppliedProposal {
        var stateRoot = latest?.stateRoot ?? StateRoot.initial
        var blockHeight = latest?.blockHeight ?? 0
        var size = ledger.frontier.size
        var logRoot = ledger.frontier.root
        if let header = block?.header.value {
            stateRoot = try changes.root(after: stateRoot, height: header.height)
            blockHeight = header.height
            size = header.logSize
            logRoot = header.logRoot
        }
        let checkpoint = ConsortiumCheckpoint.make(origin: origin, size: size, logRoot: logRoot, stateRoot: stateRoot)
        let cosignature = try signer.sign(checkpoint.text, time: UInt64(max(0, proposal.time.milliseconds / 1000)))
        let applied = AppliedCheckpoint(
            height: proposal.height, blockHeight: blockHeight, time: proposal.time, checkpoint: checkpoint.text,
            stateRoot: stateRoot, cosignature: cosignature.line)
        return AppliedProposal(applied: applied, checkpoint: checkpoint, cosignature: cosignature, answers: [])
    }
}
