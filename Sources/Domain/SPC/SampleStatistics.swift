/// The sample standard deviation (n − 1 in the denominator).
func sampleStandardDeviation(_ values: [Double], mean: Double) -> Double {
    guard values.count > 1 else { return 0 }
    return (values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1)).squareRoot()
}
