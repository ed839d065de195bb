"""SCM: bulk export of the city's own copies, only with an approval, every person read logged."""
