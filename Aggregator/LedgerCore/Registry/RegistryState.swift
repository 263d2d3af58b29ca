import AgriTraceCore
import Crypto

/// A device as the registry knows it.
public struct RegisteredDevice: Sendable, Hashable {
    /// `active` or `revoked`.
    public typealias Status = RegistrationStatus

    public var enterprise: String
    public var device: String
    public var publicKey: Curve25519.Signing.PublicKey
    public var stage: Stage?
    public var status: Status

    public init(
        enterprise: String, device: String, publicKey: Curve25519.Signing.PublicKey, stage: Stage?, status: Status
    ) {
        self.enterprise = enterprise
        self.device = device
        self.publicKey = publicKey
        self.stage = stage
        self.status = status
    }

    public static func == (lhs: RegisteredDevice, rhs: RegisteredDevice) -> Bool {
        lhs.enterprise == rhs.enterprise && lhs.device == rhs.device && lhs.stage == rhs.stage
            && lhs.status == rhs.status && lhs.publicKey.rawRepresentation == rhs.publicKey.rawRepresentation
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(enterprise)
        hasher.combine(device)
    }
}

/// The registry part of the world state, held in memory by the ledger and by `replay`.
public struct RegistryState: Sendable {
    /// Devices by `(enterprise, device)`.
    public var devices: [DeviceKey: RegisteredDevice] = [:]
    public var enterprises: Set<String> = []
    /// Principals by name (firms, regulators, ...), with their signing keys.
    public var principals: [String: RegisteredPrincipal] = [:]

    /// A device's registry key.
    public struct DeviceKey: Hashable, Sendable {
        public var enterprise: String
        public var device: String

        public init(enterprise: String, device: String) {
            self.enterprise = enterprise
            self.device = device
        }
    }

    public init() {}

    /// The device, if registered (active or revoked).
    public func device(enterprise: String, device: String) -> RegisteredDevice? {
        devices[DeviceKey(enterprise: enterprise, device: device)]
    }
}

/// A principal as the registry knows it.
public struct RegisteredPrincipal: Sendable {
    public var entry: PrincipalEntry
    public var publicKey: Curve25519.Signing.PublicKey
    public var isActive: Bool

    public init(entry: PrincipalEntry, publicKey: Curve25519.Signing.PublicKey, isActive: Bool) {
        self.entry = entry
        self.publicKey = publicKey
        self.isActive = isActive
    }
}

extension RegistryState {
    /// The registry contract: applies an admitted entry to the registry (other entries leave it as it is).
    public mutating func apply(_ entry: LogEntry) {
        guard case .registry(let signed) = entry else { return }
        switch signed.value.operation {
        case .addDevice(let enterprise, let device, let publicKey, let stage):
            enterprises.insert(enterprise)
            devices[.init(enterprise: enterprise, device: device)] = RegisteredDevice(
                enterprise: enterprise, device: device,
                publicKey: try! Curve25519.Signing.PublicKey(rawBytes: publicKey),  // checked
                stage: stage, status: .active)
        case .revokeDevice(let enterprise, let device, _):
            devices[.init(enterprise: enterprise, device: device)]?.status = .revoked
        case .addPrincipal(let principal):
            enterprises.insert(principal.enterprise)
            principals[principal.name] = RegisteredPrincipal(
                entry: principal, publicKey: try! Curve25519.Signing.PublicKey(rawBytes: principal.publicKey),  // checked
                isActive: true)
        case .revokePrincipal(let name, _):
            principals[name]?.isActive = false
        }
    }
}
