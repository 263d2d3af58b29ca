import AgriTraceCore

/// The worked example of the domain reference (§2): one lot of fresh corn planted by
/// `PLANT1`, its owner, the regulator, the requester in Beijing, and the owner's policy.
/// Shared by the access-control and transfer tests and the access-flow benchmark.
public enum WorkedExample {
    /// The lot the policy protects.
    public static let lot = "20240203A001"
    /// The lot's product.
    public static let product = "fresh corn"
    /// The planting enterprise's firm, owner of the lot's private data.
    public static let owner = "Firm/owner@PLANT1"
    /// The regulator running the matcher.
    public static let regulator = "Regulator/inspector@AGENCY"
    /// 2026-03-02T09:00:00+08:00, inside the policy's 08:00-12:00 window.
    public static let morning = Timestamp(milliseconds: 1_772_413_200_000)

    /// The requester whose attributes match the policy.
    public static let requesterGrant = AttributeGrant(
        principal: "Firm/zhang@ZS123", enterprise: "ZS123", role: .processingAdministrator, stage: .processing,
        productCategory: "fresh corn", region: "Beijing")

    /// The owner's policy over the lot's data at `level` (the worked example is level-2).
    public static func policy(level: ABAC.Sensitivity = .level2, name: String = "corn-processing-read") -> String {
        """
        policy \(name)
          subject.enterprise = ZS123
          subject.role       = processing-administrator
          subject.stage      = processing
          subject.category   = fresh corn
          object.product     = fresh corn
          object.lot         = 20240203A001
          object.stage       = planting
          object.level       = \(level.rawValue)
          environment.source = Beijing
          environment.time   = 08:00-12:00 +08:00
          action             = read
        """
    }
}
