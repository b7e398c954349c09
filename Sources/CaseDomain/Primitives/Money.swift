/// Money is always integer cents: no floating point anywhere on a money path.
public typealias Cents = Int64
