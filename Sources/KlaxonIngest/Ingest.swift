// KlaxonIngest: payload bytes → [Alert].
