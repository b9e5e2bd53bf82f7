#pragma once

#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace bazaar::bench {

/// An integer setting of a benchmark from the environment, or `fallback`.
inline int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::atoi(v) : fallback;
}

/// The p-th percentile (0..1) of `v`, nearest rank; 0 when empty.
inline double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

/// The pid written in `file` (0 when there is none).
inline int pid_in(const std::string& file) {
  std::ifstream in(file);
  int pid = 0;
  in >> pid;
  return pid;
}

/// Resident memory of a process in MiB, from /proc (0 when it is gone).
inline double rss_mib(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atof(line.c_str() + 6) / 1024.0;
  }
  return 0;
}

/// The fields of /proc/<pid>/stat after the command name: [0] is the state, [1] the parent,
/// [11] utime, [12] stime, [13] cutime, [14] cstime (clock ticks). Empty when it is gone.
inline std::vector<std::string> stat_fields(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = text.rfind(')');
  std::vector<std::string> out;
  if (close == std::string::npos) return out;
  std::istringstream rest(text.substr(close + 2));
  for (std::string field; rest >> field;) out.push_back(field);
  return out;
}

/// CPU time (user + system) `pid` used so far, in ms. With `tree`, also what its children
/// used: the live ones, and the exited ones it waited for (PostgreSQL's backends, so a
/// backend that ends between two readings still counts).
inline double cpu_ms(int pid, bool tree = false) {
  static const double ms_per_tick = 1000.0 / static_cast<double>(::sysconf(_SC_CLK_TCK));
  const auto own = stat_fields(pid);
  if (own.size() < 15) return 0;
  double ticks = std::atof(own[11].c_str()) + std::atof(own[12].c_str());
  if (tree) {
    ticks += std::atof(own[13].c_str()) + std::atof(own[14].c_str());
    for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
      const std::string name = entry.path().filename();
      if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
      const auto child = stat_fields(std::atoi(name.c_str()));
      if (child.size() >= 15 && std::atoi(child[1].c_str()) == pid) {
        ticks += std::atof(child[11].c_str()) + std::atof(child[12].c_str());
      }
    }
  }
  return ticks * ms_per_tick;
}

/// What a child of PostgreSQL's postmaster serves, from the title it gives itself: the
/// database of a client backend ("postgres: bazaar bazaar_order 127.0.0.1(5432) idle"), or
/// "other" (the checkpointer, the WAL writer, autovacuum).
inline std::string pg_child_label(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline");
  std::string title;
  std::getline(in, title, '\0');
  std::istringstream words(title);
  std::string program, user, database, client;
  words >> program >> user >> database >> client;
  const bool backend =
      program == "postgres:" && (client.find('(') != std::string::npos || client == "[local]");
  return backend ? database : "other";
}

/// CPU time (ms) of every live child of `postmaster` so far, by pid, with its label.
inline std::map<int, std::pair<std::string, double>> pg_children_cpu(int postmaster) {
  static const double ms_per_tick = 1000.0 / static_cast<double>(::sysconf(_SC_CLK_TCK));
  std::map<int, std::pair<std::string, double>> out;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    const int pid = std::atoi(name.c_str());
    const auto f = stat_fields(pid);
    if (f.size() < 15 || std::atoi(f[1].c_str()) != postmaster) continue;
    out[pid] = {pg_child_label(pid),
                (std::atof(f[11].c_str()) + std::atof(f[12].c_str())) * ms_per_tick};
  }
  return out;
}

/// What each label used between two readings of pg_children_cpu(); a child that ended in
/// between is missing here (the postmaster's own total still counts it).
inline std::map<std::string, double> pg_cpu_by_label(
    const std::map<int, std::pair<std::string, double>>& before,
    const std::map<int, std::pair<std::string, double>>& after) {
  std::map<std::string, double> out;
  for (const auto& [pid, now] : after) {
    const auto was = before.find(pid);
    out[now.first] += now.second - (was != before.end() ? was->second.second : 0.0);
  }
  return out;
}

/// The broker's counters as `tool` (scripts/kafka/BrokerCounters.java) prints them, by name
/// ("request Produce", "topic MessagesInPerSec"); empty when they cannot be read.
inline std::map<std::string, double> broker_counters(const std::string& tool, int pid) {
  std::map<std::string, double> out;
  if (tool.empty() || pid <= 0) return out;
  const std::string command = "java '" + tool + "' " + std::to_string(pid) + " 2>/dev/null";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return out;
  std::array<char, 512> line{};
  while (std::fgets(line.data(), static_cast<int>(line.size()), pipe) != nullptr) {
    const std::string text(line.data());
    const auto space = text.rfind(' ');
    if (space != std::string::npos)
      out[text.substr(0, space)] = std::atof(text.c_str() + space + 1);
  }
  if (::pclose(pipe) != 0) out.clear();
  return out;
}

/// The page cache written to but not yet on the disk, in MiB (`Dirty:` in /proc/meminfo).
inline double dirty_mib() {
  std::ifstream in("/proc/meminfo");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("Dirty:", 0) == 0) return std::atof(line.c_str() + 6) / 1024.0;
  }
  return 0;
}

/// Reads dirty_mib() once a second on a thread of its own, kept by the wall-clock second it
/// was read in: the kernel writing out what piled up shows as a sudden fall.
class DirtySampler {
 public:
  DirtySampler()
      : thread_([this] {
          while (!stop_.load()) {
            const double mib = dirty_mib();
            const auto second = std::chrono::duration_cast<std::chrono::seconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count();
            {
              const std::lock_guard lock(mutex_);
              samples_[second] = mib;
            }
            for (int i = 0; i < 10 && !stop_.load(); ++i)
              std::this_thread::sleep_for(std::chrono::milliseconds{100});
          }
        }) {}
  DirtySampler(const DirtySampler&) = delete;
  DirtySampler& operator=(const DirtySampler&) = delete;
  ~DirtySampler() {
    stop_ = true;
    thread_.join();
  }

  /// The last reading taken at or before `second` (seconds since the epoch), or -1.
  double until(long long second) const {
    const std::lock_guard lock(mutex_);
    auto found = samples_.upper_bound(second);
    return found == samples_.begin() ? -1 : std::prev(found)->second;
  }

  /// The first reading taken at or after `second`, or -1.
  double from(long long second) const {
    const std::lock_guard lock(mutex_);
    const auto found = samples_.lower_bound(second);
    return found == samples_.end() ? -1 : found->second;
  }

 private:
  mutable std::mutex mutex_;
  std::map<long long, double> samples_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace bazaar::bench
