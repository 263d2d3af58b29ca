import AccessCrypto
print("todo")
