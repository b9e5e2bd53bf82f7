// bazaar-contracts-gen: turns schemas/ (one JSON Schema per event type) and topics.tsv into
// C++: a constant per topic and per event type, and a struct per event type with its JSON
// conversions. Run by the build, so a schema change that breaks a handler breaks the build.
//   bazaar-contracts-gen <schemas-dir> <out-dir> <asyncapi.yaml>
// writes <out-dir>/contracts.hpp and .cpp, and the AsyncAPI 3.0 document of the topics.
#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "asyncapi_writer.hpp"

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

enum class Kind { string, integer, number, boolean, object, array };

struct Struct;

struct Field {
  std::string name;
  Kind kind = Kind::string;
  bool required = false;
  std::string nested;  ///< struct name for objects and arrays of objects
};

struct Struct {
  std::string name;
  std::string description;
  std::vector<Field> fields;
};

struct Event {
  std::string type;             ///< bazaar.<domain>.<Name>.v<N>
  std::string topic;            ///< x-bazaar-topic: where it travels
  json::object schema;          ///< the schema as written
  std::string domain;           ///< <domain>
  std::string name;             ///< <Name>V<N>
  std::vector<Struct> structs;  ///< nested ones first, the payload last
};

std::string read(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string camel(const std::string& snake) {
  std::string out;
  bool upper = true;
  for (const char c : snake) {
    if (c == '_' || c == '-' || c == '.') {
      upper = true;
    } else {
      out.push_back(upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c);
      upper = false;
    }
  }
  return out;
}

// The struct of one item of an array property: "lines" -> "Line", "shortages" -> "Shortage".
std::string item_name(const std::string& property) {
  std::string n = property;
  if (n.size() > 3 && n.ends_with("ies")) {
    n = n.substr(0, n.size() - 3) + "y";
  } else if (n.size() > 1 && n.ends_with('s')) {
    n.pop_back();
  }
  return camel(n);
}

Kind kind_of(const json::object& schema, const std::string& where) {
  const auto* t = schema.if_contains("type");
  if (t == nullptr || !t->is_string()) {
    throw std::runtime_error(where + ": every property needs one \"type\"");
  }
  const std::string type(t->get_string());
  if (type == "string") return Kind::string;
  if (type == "integer") return Kind::integer;
  if (type == "number") return Kind::number;
  if (type == "boolean") return Kind::boolean;
  if (type == "object") return Kind::object;
  if (type == "array") return Kind::array;
  throw std::runtime_error(where + ": unsupported type " + type);
}

// Adds the struct for `schema` (and, before it, those of its nested objects) to `out`.
void collect(const json::object& schema, const std::string& name, const std::string& where,
             std::vector<Struct>& out) {
  Struct s{name, {}, {}};
  if (const auto* d = schema.if_contains("description"); d != nullptr && d->is_string()) {
    s.description = std::string(d->get_string());
    std::replace(s.description.begin(), s.description.end(), '\n', ' ');
  }
  std::set<std::string> required;
  if (const auto* r = schema.if_contains("required")) {
    for (const auto& n : r->as_array()) required.insert(std::string(n.as_string()));
  }
  const auto* props = schema.if_contains("properties");
  if (props == nullptr) throw std::runtime_error(where + ": an object needs \"properties\"");
  for (const auto& [key, value] : props->as_object()) {
    const std::string prop(key);
    const std::string at = where + "/" + prop;
    const auto& p = value.as_object();
    Field f{prop, kind_of(p, at), required.contains(prop), {}};
    if (f.kind == Kind::object) {
      f.nested = camel(prop);
      collect(p, f.nested, at, out);
    } else if (f.kind == Kind::array) {
      const auto* items = p.if_contains("items");
      if (items == nullptr || kind_of(items->as_object(), at + "/items") != Kind::object) {
        throw std::runtime_error(at + ": only arrays of objects are supported");
      }
      f.nested = item_name(prop);
      collect(items->as_object(), f.nested, at + "/items", out);
    }
    s.fields.push_back(std::move(f));
  }
  out.push_back(std::move(s));
}

Event load_event(const fs::path& file) {
  const std::string type = file.stem().string();  // bazaar.<domain>.<Name>.v<N>
  std::vector<std::string> parts;
  std::stringstream split(type);
  for (std::string part; std::getline(split, part, '.');) parts.push_back(part);
  if (parts.size() != 4 || parts[0] != "bazaar" || parts[3].size() < 2 || parts[3][0] != 'v') {
    throw std::runtime_error(file.string() + ": not named bazaar.<domain>.<Event>.v<N>.json");
  }
  const json::value schema = json::parse(read(file));
  const auto* topic = schema.as_object().if_contains("x-bazaar-topic");
  if (topic == nullptr || !topic->is_string()) {
    throw std::runtime_error(file.string() + ": names no topic (\"x-bazaar-topic\")");
  }
  Event e{type,     std::string(topic->get_string()),    schema.as_object(),
          parts[1], parts[2] + "V" + parts[3].substr(1), {}};
  collect(schema.as_object(), e.name, type, e.structs);
  return e;
}

struct Topic {
  std::string name;
  std::string comment;
  int partitions = 6;  ///< the count the line gives, else the default of scripts/infra
};

std::vector<Topic> load_topics(const fs::path& file) {
  std::vector<Topic> out;
  std::ifstream in(file);
  if (!in) throw std::runtime_error("cannot read " + file.string());
  for (std::string line; std::getline(in, line);) {
    std::string comment;
    if (const auto hash = line.find('#'); hash != std::string::npos) {
      comment = line.substr(hash + 1);
      line = line.substr(0, hash);
    }
    std::stringstream words(line);
    std::string name;
    if (!(words >> name)) continue;
    std::string second;
    int partitions = 6;
    if (words >> second && !second.empty() &&
        std::all_of(second.begin(), second.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      partitions = std::stoi(second);
    }
    while (!comment.empty() && comment.front() == ' ') comment.erase(0, 1);
    out.push_back({name, comment, partitions});
  }
  return out;
}

std::string cpp_type(const Field& f) {
  std::string t;
  switch (f.kind) {
    case Kind::string:
      t = "std::string";
      break;
    case Kind::integer:
      t = "std::int64_t";
      break;
    case Kind::number:
      t = "double";
      break;
    case Kind::boolean:
      t = "bool";
      break;
    case Kind::object:
      t = f.nested;
      break;
    case Kind::array:
      t = "std::vector<" + f.nested + ">";
      break;
  }
  // An absent array is an empty one; every other optional field says it may be absent.
  if (!f.required && f.kind != Kind::array) t = "std::optional<" + t + ">";
  return t;
}

std::string reader(Kind k) {
  switch (k) {
    case Kind::string:
      return "string";
    case Kind::integer:
      return "int64";
    case Kind::number:
      return "number";
    case Kind::boolean:
      return "boolean";
    default:
      return "";
  }
}

void write_header(std::ostream& h, const std::vector<Topic>& topics,
                  const std::vector<Event>& events) {
  h << "// Generated by bazaar-contracts-gen from schemas/: do not edit.\n"
       "#pragma once\n\n"
       "#include <boost/json/object.hpp>\n#include <boost/json/value.hpp>\n"
       "#include <cstdint>\n#include <optional>\n#include <string>\n#include <string_view>\n"
       "#include <vector>\n\n#include \"events/fields.hpp\"\n\n"
       "namespace bazaar::contracts {\n\n"
       "/// The topics of schemas/topics.tsv.\nnamespace topic {\n";
  for (const auto& t : topics) {
    if (!t.comment.empty()) h << "/// " << t.comment << "\n";
    h << "inline constexpr const char* k" << camel(t.name) << " = \"" << t.name << "\";\n";
  }
  h << "}  // namespace topic\n\n"
       "/// The dead-letter topic of a consumer group.\n"
       "inline std::string dead_letter_topic(std::string_view group) {\n"
       "  return \"dlq.\" + std::string(group);\n}\n";
  std::string domain;
  for (const auto& e : events) {
    if (e.domain != domain) {
      if (!domain.empty()) h << "\n}  // namespace " << domain << "\n";
      domain = e.domain;
      h << "\nnamespace " << domain << " {\n";
    }
    // Item structs live inside their event's struct, so two events may each have a Line.
    const Struct& payload = e.structs.back();
    h << "\n";
    if (!payload.description.empty()) h << "/// " << payload.description << "\n";
    h << "struct " << payload.name << " {\n"
      << "  static constexpr const char* kType = \"" << e.type << "\";\n"
      << "  static constexpr const char* kTopic = \"" << e.topic << "\";\n";
    for (std::size_t i = 0; i + 1 < e.structs.size(); ++i) {
      const Struct& item = e.structs[i];
      h << "\n  struct " << item.name << " {\n";
      for (const auto& f : item.fields) h << "    " << cpp_type(f) << " " << f.name << "{};\n";
      h << "\n    static " << item.name << " from(const events::Fields& f);\n"
        << "    boost::json::object to_json() const;\n  };\n";
    }
    h << "\n";
    for (const auto& f : payload.fields) h << "  " << cpp_type(f) << " " << f.name << "{};\n";
    h << "\n  /// Reads a payload; a missing or mistyped field is a PermanentError naming it.\n"
      << "  static " << payload.name << " from(const events::Fields& f);\n"
      << "  static " << payload.name << " from(const boost::json::value& payload) {\n"
      << "    return from(events::Fields::of(payload));\n  }\n"
      << "  boost::json::object to_json() const;\n};\n";
  }
  if (!domain.empty()) h << "\n}  // namespace " << domain << "\n";
  h << "\n/// Every event type of schemas/.\n"
       "const std::vector<std::string_view>& all_types();\n"
       "/// Decodes `payload` as `type` and encodes it again, for contract tests; nullopt for a\n"
       "/// type without a schema.\n"
       "std::optional<boost::json::object> round_trip(std::string_view type,\n"
       "                                              const boost::json::value& payload);\n\n"
       "}  // namespace bazaar::contracts\n";
}

void write_source(std::ostream& c, const std::vector<Event>& events) {
  c << "// Generated by bazaar-contracts-gen from schemas/: do not edit.\n"
       "#include \"contracts/contracts.hpp\"\n\n"
       "#include <boost/json/array.hpp>\n\n"
       "namespace bazaar::contracts {\n";
  for (const auto& e : events) {
    for (const auto& s : e.structs) {
      const bool payload = &s == &e.structs.back();
      const std::string q = e.domain + "::" + e.name + (payload ? std::string{} : "::" + s.name);
      c << "\n" << q << " " << q << "::from(const events::Fields& f) {\n  " << s.name << " out;\n";
      for (const auto& f : s.fields) {
        const std::string key = "\"" + f.name + "\"";
        if (f.kind == Kind::object) {
          if (f.required) {
            c << "  out." << f.name << " = " << f.nested << "::from(f.nested(" << key << "));\n";
          } else {
            c << "  if (f.optional_object(" << key << ") != nullptr) out." << f.name << " = "
              << f.nested << "::from(f.nested(" << key << "));\n";
          }
        } else if (f.kind == Kind::array) {
          c << "  if (const auto* array_value = "
            << (f.required ? "&f.array(" : "f.optional_array(") << key << ")) {\n"
            << "    for (std::size_t i = 0; i < array_value->size(); ++i) {\n"
            << "      out." << f.name << ".push_back(" << f.nested
            << "::from(events::Fields::item(*array_value, i, f.path_of(" << key << "))));\n"
            << "    }\n  }\n";
        } else {
          c << "  out." << f.name << " = f." << (f.required ? "" : "optional_") << reader(f.kind)
            << "(" << key << ");\n";
        }
      }
      c << "  return out;\n}\n\n"
        << "boost::json::object " << q << "::to_json() const {\n  boost::json::object out_json;\n";
      for (const auto& f : s.fields) {
        const std::string key = "\"" + f.name + "\"";
        if (f.kind == Kind::array) {
          c << "  {\n    boost::json::array array_value;\n"
            << "    for (const auto& item : " << f.name
            << ") array_value.push_back(item.to_json());\n";
          if (f.required) {
            c << "    out_json[" << key << "] = std::move(array_value);\n  }\n";
          } else {
            c << "    if (!array_value.empty()) out_json[" << key
              << "] = std::move(array_value);\n  }\n";
          }
        } else if (f.kind == Kind::object) {
          if (f.required) {
            c << "  out_json[" << key << "] = " << f.name << ".to_json();\n";
          } else {
            c << "  if (" << f.name << ") out_json[" << key << "] = " << f.name << "->to_json();\n";
          }
        } else if (f.required) {
          c << "  out_json[" << key << "] = " << f.name << ";\n";
        } else {
          c << "  if (" << f.name << ") out_json[" << key << "] = *" << f.name << ";\n";
        }
      }
      c << "  return out_json;\n}\n";
    }
  }
  c << "\nconst std::vector<std::string_view>& all_types() {\n"
       "  static const std::vector<std::string_view> kAll{\n";
  for (const auto& e : events) c << "      \"" << e.type << "\",\n";
  c << "  };\n  return kAll;\n}\n\n"
       "std::optional<boost::json::object> round_trip(std::string_view type,\n"
       "                                              const boost::json::value& payload) {\n";
  for (const auto& e : events) {
    c << "  if (type == " << e.domain << "::" << e.name << "::kType) return " << e.domain
      << "::" << e.name << "::from(payload).to_json();\n";
  }
  c << "  return std::nullopt;\n}\n\n}  // namespace bazaar::contracts\n";
}

// Writes `text` unless the file already holds it, so an unchanged schema rebuilds nothing.
void write_if_changed(const fs::path& path, const std::string& text) {
  std::error_code ec;
  if (fs::exists(path, ec) && read(path) == text) return;
  std::ofstream out(path);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: bazaar-contracts-gen <schemas-dir> <out-dir> <asyncapi.yaml>\n";
    return 2;
  }
  try {
    const fs::path schemas = argv[1];
    const fs::path out = argv[2];
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(schemas)) {
      const auto name = entry.path().filename().string();
      if (entry.is_regular_file() && name.starts_with("bazaar.") && name.ends_with(".json")) {
        files.push_back(entry.path());
      }
    }
    std::sort(files.begin(), files.end());
    std::vector<Event> events;
    for (const auto& f : files) events.push_back(load_event(f));
    std::stable_sort(events.begin(), events.end(),
                     [](const Event& a, const Event& b) { return a.domain < b.domain; });
    const auto topics = load_topics(schemas / "topics.tsv");
    fs::create_directories(out);
    std::ostringstream header;
    write_header(header, topics, events);
    std::ostringstream source;
    write_source(source, events);
    write_if_changed(out / "contracts.hpp", header.str());
    write_if_changed(out / "contracts.cpp", source.str());
    std::vector<bazaar::tools::AsyncTopic> async_topics;
    for (const auto& t : topics) async_topics.push_back({t.name, t.comment, t.partitions});
    std::vector<bazaar::tools::AsyncMessage> async_messages;
    for (const auto& e : events) {
      bool known = false;
      for (const auto& t : topics) known = known || t.name == e.topic;
      if (!known) throw std::runtime_error(e.type + ": topic " + e.topic + " is not in topics.tsv");
      std::optional<json::value> example;
      const fs::path sample = schemas / "samples" / (e.type + ".json");
      if (fs::exists(sample)) example = json::parse(read(sample));
      async_messages.push_back({e.type, e.topic, e.schema, example});
    }
    write_if_changed(argv[3], bazaar::tools::asyncapi_yaml(async_topics, async_messages));
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "bazaar-contracts-gen: " << e.what() << "\n";
    return 1;
  }
}
