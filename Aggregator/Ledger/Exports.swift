// The ledger re-exports its pure core: its users see the registry, the admission checks and
// the contracts' rules without a second import.
@_exported import LedgerCore
