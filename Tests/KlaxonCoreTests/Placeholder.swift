import Testing

@Test func placeholderKlaxonCoreTests() {}
