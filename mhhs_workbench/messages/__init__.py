"""DIP message builders for IF-021 and IF-041 and the code lists they use."""
