#pragma once

#include <boost/json/array.hpp>
#include <string>
#include <vector>

#include "record.hpp"

namespace bazaar::ctl {

/// Whether a record belongs to the order: correlated to it, about it, or keyed by it.
bool concerns_order(const Record& r, const std::string& order_id);

/// The records of one order in the order they happened: by ce_time, then topic and offset.
void sort_timeline(std::vector<Record>& records);

/// The timeline as text: each record's time since the first, the gap since the one before,
/// command or event, its topic and name, and what it says (status moves, reasons, amounts);
/// a step the deadline scanner took is marked `deadline`.
std::string render_timeline(const std::string& order_id, const std::vector<Record>& sorted);
/// The same as JSON, one object a step.
boost::json::array timeline_json(const std::vector<Record>& sorted);

}  // namespace bazaar::ctl
