-- Schema 4: the episode's Podcasting 2.0 chapters file (`podcast:chapters`), fetched beside its
-- media as NAME.chapters.json. Never edit once released.
ALTER TABLE episodes ADD COLUMN chapters_url TEXT;
