import Testing

@Test func placeholderKlaxonCLITests() {}
