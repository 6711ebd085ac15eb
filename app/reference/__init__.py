"""Reference data: regions, dictionaries (单位性质, 机构类型, 服务类别) and platforms."""
