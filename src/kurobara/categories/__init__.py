"""A user's categories: named, ordered shelves of their library; an entry can be on several."""
