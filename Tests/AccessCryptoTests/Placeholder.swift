import Testing
@testable import AccessCrypto
