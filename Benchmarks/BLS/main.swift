import BLS12381
print(BLS12381.pairing(.generator, .generator).bytes.prefix(8))
