#include "timeline.hpp"

#include <algorithm>
#include <boost/json/object.hpp>
#include <cstdio>

#include "events/errors.hpp"
#include "events/fields.hpp"
#include "render.hpp"

namespace bazaar::ctl {
namespace {

std::int64_t at_ms(const Record& r) {
  if (r.event) {
    if (const auto t = events::parse_rfc3339(r.event->time)) {
      return std::chrono::duration_cast<std::chrono::milliseconds>(t->time_since_epoch()).count();
    }
  }
  return r.timestamp_ms;
}

bool is_command(const Record& r) {
  return r.topic.ends_with(".commands");
}

// A step nothing caused: the order service's deadline scanner took it.
bool by_deadline(const Record& r) {
  return r.event && r.event->causation_id.empty() && r.event->source == "/bazaar/order";
}

std::string seconds(std::int64_t ms) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3fs", static_cast<double>(ms) / 1000.0);
  return text;
}

// What a step says, in a few words; a payload of unexpected shape says nothing.
std::string summary(const Record& r) {
  if (!r.event || !r.event->data.is_object()) return {};
  try {
    const events::Fields f(r.event->data.get_object());
    std::string out;
    const auto previous = f.optional_string("previous_status");
    const auto status = f.optional_string("status");
    if (previous && status) out = *previous + " -> " + *status;
    if (const auto amount = f.optional_int64("amount")) {
      out += (out.empty() ? "amount " : " amount ") + std::to_string(*amount);
    }
    if (const auto reason = f.optional_string("reason")) {
      out += (out.empty() ? "(" : " (") + *reason + ")";
    }
    return out;
  } catch (const events::PermanentError&) {
    return {};
  }
}

}  // namespace

bool concerns_order(const Record& r, const std::string& order_id) {
  if (r.key == order_id) return true;
  if (!r.event) return false;
  return r.event->correlation_id == order_id || r.event->subject == order_id;
}

void sort_timeline(std::vector<Record>& records) {
  std::stable_sort(records.begin(), records.end(), [](const Record& a, const Record& b) {
    const auto ta = at_ms(a);
    const auto tb = at_ms(b);
    if (ta != tb) return ta < tb;
    if (a.topic != b.topic) return a.topic < b.topic;
    return a.offset < b.offset;
  });
}

std::string render_timeline(const std::string& order_id, const std::vector<Record>& sorted) {
  if (sorted.empty()) return "order " + order_id + ": no records on any topic\n";
  const std::int64_t first = at_ms(sorted.front());
  const std::int64_t span = at_ms(sorted.back()) - first;
  std::string out = "order " + order_id + ": " + std::to_string(sorted.size()) + " records over " +
                    seconds(span) + "\n";
  std::int64_t previous = first;
  for (const auto& r : sorted) {
    const std::int64_t at = at_ms(r);
    char line[256];
    std::snprintf(line, sizeof line, "  +%-9s (+%-8s) %-7s %-20s %-26s",
                  seconds(at - first).c_str(), seconds(at - previous).c_str(),
                  is_command(r) ? "command" : "event", r.topic.c_str(),
                  r.event ? short_type(r.event->type).c_str() : "(raw)");
    out += line;
    out += summary(r);
    if (by_deadline(r)) out += "  [deadline]";
    out += "  " + r.where() + "\n";
    previous = at;
  }
  return out;
}

boost::json::array timeline_json(const std::vector<Record>& sorted) {
  boost::json::array out;
  const std::int64_t first = sorted.empty() ? 0 : at_ms(sorted.front());
  std::int64_t previous = first;
  for (const auto& r : sorted) {
    const std::int64_t at = at_ms(r);
    boost::json::object step{{"at_ms", at - first},
                             {"gap_ms", at - previous},
                             {"kind", is_command(r) ? "command" : "event"},
                             {"topic", r.topic},
                             {"partition", r.partition},
                             {"offset", r.offset},
                             {"deadline", by_deadline(r)}};
    if (r.event) {
      step["type"] = r.event->type;
      step["time"] = r.event->time;
      step["data"] = r.event->data;
    }
    out.push_back(std::move(step));
    previous = at;
  }
  return out;
}

}  // namespace bazaar::ctl
