"""My Portal (マイナポータル): a resident sees who received which of their data and when."""
