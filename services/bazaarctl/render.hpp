#pragma once

#include <boost/json/object.hpp>
#include <string>

#include "record.hpp"

namespace bazaar::ctl {

/// How a command prints what it found.
enum class Output { table, json };

/// One line for people: time, type, subject, correlation, key, where, and the payload.
std::string table_line(const Record& r);
/// One JSON object for tools: every attribute, the headers, and the payload as JSON when it
/// parses (else as text).
boost::json::object record_json(const Record& r);
/// The columns of csv_row(), as a CSV header line.
std::string csv_header();
/// One CSV line (RFC 4180 quoting): where it is, the CloudEvents attributes, and the payload
/// as JSON text.
std::string csv_row(const Record& r);
/// The event name of a ce_type: `OrderPlaced` for `bazaar.order.OrderPlaced.v1`.
std::string short_type(const std::string& ce_type);

}  // namespace bazaar::ctl
