#pragma once

#include <boost/json/value.hpp>
#include <string>

namespace bazaar::tools {

/// `v` as block-style YAML: maps and sequences on their own lines, every string a
/// double-quoted scalar (JSON's escapes are YAML's), so any value round-trips.
std::string to_yaml(const boost::json::value& v);

}  // namespace bazaar::tools
