"""The public surface of server.identity_feed is pinned."""

import server.identity_feed as feed


def test_public_surface_is_exactly_the_declared_names() -> None:
    assert set(feed.__all__) == {"FEED_ROLE", "IdentityFeed", "register_identity_feed"}
    assert all(hasattr(feed, name) for name in feed.__all__)
    assert feed.FEED_ROLE == "source-identite"
