"""The information provision network (情報提供ネットワークシステム): registry, whitelist,
symbols, query relay and provision records."""
