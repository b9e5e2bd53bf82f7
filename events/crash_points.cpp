#include "events/crash_points.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace bazaar::events {
namespace {

std::atomic<bool> g_armed{false};
std::string g_point;  // written once before any thread runs, read only while armed
long g_nth = 1;
std::atomic<long> g_passes{0};

}  // namespace

const std::vector<std::string_view>& crash::points() {
  static const std::vector<std::string_view> kAll{kAfterCommitBeforeOffset, kBetweenBatchRecords,
                                                  kRelayAfterSend, kRelayAfterMark,
                                                  kDeadlineScanBeforeUpdate};
  return kAll;
}

void arm_crash_point(const std::string& spec) {
  g_armed.store(false);
  if (spec.empty()) return;
  const auto colon = spec.find(':');
  const std::string point = spec.substr(0, colon);
  const auto& known = crash::points();
  if (std::find(known.begin(), known.end(), point) == known.end()) {
    throw std::invalid_argument("BAZAAR_CRASH_AT names no crash point: " + point);
  }
  long nth = 1;
  if (colon != std::string::npos) {
    char* end = nullptr;
    nth = std::strtol(spec.c_str() + colon + 1, &end, 10);
    if (end == spec.c_str() + colon + 1 || *end != '\0' || nth < 1) {
      throw std::invalid_argument("BAZAAR_CRASH_AT count must be a positive number: " + spec);
    }
  }
  g_point = point;
  g_nth = nth;
  g_passes.store(0);
  g_armed.store(true);
}

void crash_point(const char* point) {
  if (!g_armed.load(std::memory_order_relaxed)) return;
  if (g_point != point) return;
  if (g_passes.fetch_add(1) + 1 != g_nth) return;
  // As abrupt as a crash: no destructor runs and nothing is flushed or committed.
  const std::string line = std::string("crash point ") + point + " reached; exiting\n";
  [[maybe_unused]] const auto written = ::write(2, line.data(), line.size());
  std::_Exit(crash::kExitStatus);
}

}  // namespace bazaar::events
