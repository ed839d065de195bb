-- One database per service (each service owns its data; nothing is shared between them).
CREATE DATABASE jlis;
CREATE DATABASE broker;
CREATE DATABASE portal;
CREATE DATABASE higashimurayama_city;
CREATE DATABASE higashimurayama_intermediate;
CREATE DATABASE kodaira_city;
CREATE DATABASE kodaira_intermediate;
CREATE DATABASE tokorozawa_city;
CREATE DATABASE tokorozawa_intermediate;
