import BLS12381
