// JSON config files and `key=value` overrides for training configs (sealed records with init properties). A config is
// either one record of settings or a composite of sections (DetectorTrainConfig: model, solver, input), in the manner
// of detectron2's config tree. A key is the snake_case name of a setting; in a composite it is also accepted as
// `section.key` and each plain key belongs to exactly one section, so the flat keys written before the split still bind.
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace SpineXR.Vision.Configuration;

/// <summary>Binds JSON files and <c>key=value</c> overrides onto a config record; keys are snake_case property names.</summary>
public static class ConfigBinder
{
    /// <summary>snake_case JSON, enums as strings, indented: the format of config files and of model.json.</summary>
    public static JsonSerializerOptions Json { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>Overlays the keys present in a JSON file onto <paramref name="baseline"/>; unknown keys are an error naming them.</summary>
    /// <param name="bound">Collects the settings set, as <c>section.key</c> in a composite (<c>key</c> otherwise).</param>
    public static T ApplyJson<T>(T baseline, string path, ICollection<string>? bound = null) where T : class
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        try
        {
            return ApplyJson(baseline, doc.RootElement, ignoreUnknown: false, bound);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
    }

    /// <summary>
    /// Overlays the keys of a JSON object onto <paramref name="baseline"/>: plain keys, and in a composite also section
    /// objects (<c>{"solver": {"lr": 0.01}}</c>). Unknown keys are an error, or skipped with <paramref name="ignoreUnknown"/>.
    /// </summary>
    public static T ApplyJson<T>(T baseline, JsonElement json, bool ignoreUnknown = false, ICollection<string>? bound = null) where T : class
    {
        if (json.ValueKind != JsonValueKind.Object) throw new InvalidDataException("expected a JSON object");
        var result = baseline;
        foreach (var p in json.EnumerateObject())
        {
            if (p.Value.ValueKind == JsonValueKind.Object && FindSection(typeof(T), p.Name) is { } section)
            {
                foreach (var inner in p.Value.EnumerateObject())
                {
                    var leaf = Find(section.PropertyType, inner.Name);
                    if (leaf is null)
                    {
                        if (ignoreUnknown) continue;
                        throw new InvalidDataException(UnknownKey(typeof(T), $"{p.Name}.{inner.Name}"));
                    }
                    result = Set(result, new Setting(section, leaf), inner.Value.Deserialize(leaf.PropertyType, Json), bound);
                }
                continue;
            }
            if (Resolve(typeof(T), p.Name) is not { } setting)
            {
                if (ignoreUnknown) continue;
                throw new InvalidDataException(UnknownKey(typeof(T), p.Name));
            }
            result = Set(result, setting, p.Value.Deserialize(setting.Leaf.PropertyType, Json), bound);
        }
        return result;
    }

    /// <summary>Applies <c>key=value</c> pairs (numbers, booleans, enum names, comma lists, <c>null</c>); <c>section.key</c> in a composite.</summary>
    /// <param name="bound">Collects the settings set, as <c>section.key</c> in a composite (<c>key</c> otherwise).</param>
    public static T ApplyOverrides<T>(T baseline, IEnumerable<KeyValuePair<string, string>> overrides, ICollection<string>? bound = null) where T : class
    {
        var result = baseline;
        foreach (var (key, text) in overrides)
        {
            var setting = Resolve(typeof(T), key) ?? throw new ArgumentException(UnknownKey(typeof(T), key));
            result = Set(result, setting, Parse(setting.Leaf.PropertyType, text, key), bound);
        }
        return result;
    }

    /// <summary>Whether <paramref name="key"/> (plain, or <c>section.key</c> in a composite) names a setting of <typeparamref name="T"/>.</summary>
    public static bool Knows<T>(string key) => Resolve(typeof(T), key) is not null;

    /// <summary>The snake_case keys of <typeparamref name="T"/> (of every section, in a composite).</summary>
    public static IEnumerable<string> Keys<T>() => Settings(typeof(T)).Select(s => Snake(s.Leaf.Name));

    /// <summary>The keys grouped by section for help texts: <c>model: arch, ...; solver: lr, ...</c> (the plain key list for a plain record).</summary>
    public static string KeysBySection<T>() => Sections(typeof(T)).ToList() is { Count: > 0 } sections
        ? string.Join("; ", sections.Select(s => $"{Snake(s.Name)}: {string.Join(", ", Props(s.PropertyType).Select(p => Snake(p.Name)))}"))
        : string.Join(", ", Keys<T>());

    /// <summary>A setting: the leaf property, inside <see cref="Section"/> when the config is a composite.</summary>
    private sealed record Setting(PropertyInfo? Section, PropertyInfo Leaf)
    {
        public string Key => Section is null ? Snake(Leaf.Name) : $"{Snake(Section.Name)}.{Snake(Leaf.Name)}";
    }

    private static IEnumerable<PropertyInfo> Props(Type t) =>
        t.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite && p.GetIndexParameters().Length == 0 && p.Name != "EqualityContract");

    /// <summary>A property is a section when its type is itself a config record (a class with the compiler's clone method).</summary>
    private static bool IsSection(PropertyInfo p) =>
        p.PropertyType.IsClass && p.PropertyType != typeof(string) && p.PropertyType.GetMethod("<Clone>$") is not null;

    private static IEnumerable<PropertyInfo> Sections(Type t) => Props(t).Where(IsSection);

    private static IEnumerable<Setting> Settings(Type t) =>
        Props(t).SelectMany(p => IsSection(p) ? Props(p.PropertyType).Select(l => new Setting(p, l)) : [new Setting(null, p)]);

    private static PropertyInfo? Find(Type t, string key) => Props(t).FirstOrDefault(p => !IsSection(p) && (Snake(p.Name) == key || p.Name == key));

    private static PropertyInfo? FindSection(Type t, string name) => Sections(t).FirstOrDefault(p => Snake(p.Name) == name || p.Name == name);

    /// <summary>A plain key (owned by one section in a composite) or <c>section.key</c>.</summary>
    private static Setting? Resolve(Type t, string key)
    {
        int dot = key.IndexOf('.');
        if (dot > 0)
            return FindSection(t, key[..dot]) is { } section && Find(section.PropertyType, key[(dot + 1)..]) is { } leaf ? new Setting(section, leaf) : null;
        if (Find(t, key) is { } plain) return new Setting(null, plain);
        var owners = Sections(t).Select(s => Find(s.PropertyType, key) is { } l ? new Setting(s, l) : null).OfType<Setting>().ToList();
        // a key two sections share would be ambiguous; the configs keep every key in one section (tested)
        return owners.Count == 1 ? owners[0] : null;
    }

    private static T Set<T>(T record, Setting setting, object? value, ICollection<string>? bound) where T : class
    {
        bound?.Add(setting.Key);
        if (setting.Section is not { } section) return With(record, setting.Leaf, value);
        object inner = section.GetValue(record) ?? throw new InvalidOperationException($"config section {section.Name} is null");
        return With(record, section, With(inner, setting.Leaf, value));
    }

    private static T With<T>(T record, PropertyInfo prop, object? value) where T : class
    {
        // Records: clone through the compiler's copy constructor, then set the init property on the copy.
        var clone = (T)record.GetType().GetMethod("<Clone>$")!.Invoke(record, null)!;
        prop.SetValue(clone, value);
        return clone;
    }

    /// <summary>One line: the unknown key and the known keys near it, or all of them when none is near.</summary>
    private static string UnknownKey(Type t, string key)
    {
        var keys = Settings(t).Select(s => Snake(s.Leaf.Name)).ToList();
        string leaf = key[(key.LastIndexOf('.') + 1)..];
        var near = Settings(t).Where(s => Near(leaf, Snake(s.Leaf.Name))).Select(s => s.Section is null ? Snake(s.Leaf.Name) : s.Key).ToList();
        return near.Count > 0
            ? $"unknown config key '{key}' (did you mean {string.Join(", ", near)}?)"
            : $"unknown config key '{key}' (known: {string.Join(", ", keys)})";
    }

    /// <summary>Same key in another section, one containing the other, or at most two edits apart.</summary>
    private static bool Near(string a, string b) =>
        a == b || (a.Length >= 3 && (b.Contains(a, StringComparison.Ordinal) || a.Contains(b, StringComparison.Ordinal))) || Distance(a, b) <= Math.Min(2, a.Length / 3);

    private static int Distance(string a, string b)
    {
        var row = Enumerable.Range(0, b.Length + 1).ToArray();
        for (int i = 1; i <= a.Length; i++)
        {
            int diag = row[0];
            row[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int up = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), diag + (a[i - 1] == b[j - 1] ? 0 : 1));
                diag = up;
            }
        }
        return row[b.Length];
    }

    private static object? Parse(Type type, string text, string key)
    {
        var under = Nullable.GetUnderlyingType(type);
        if (text is "null" or "" && (under != null || !type.IsValueType)) return null;
        type = under ?? type;
        try
        {
            if (type == typeof(string)) return text;
            if (type == typeof(int)) return int.Parse(text, CultureInfo.InvariantCulture);
            if (type == typeof(long)) return long.Parse(text, CultureInfo.InvariantCulture);
            if (type == typeof(double)) return double.Parse(text, CultureInfo.InvariantCulture);
            if (type == typeof(float)) return float.Parse(text, CultureInfo.InvariantCulture);
            if (type == typeof(bool)) return text.ToLowerInvariant() switch { "true" or "1" or "yes" => true, "false" or "0" or "no" => false, _ => throw new FormatException() };
            if (type.IsEnum) return Enum.Parse(type, text.Replace("_", ""), ignoreCase: true);
            if (type == typeof(double[])) return text.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray();
            if (type == typeof(int[])) return text.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        }
        catch (Exception e) when (e is FormatException or OverflowException or ArgumentException)
        {
            throw new ArgumentException($"config key '{key}': cannot read '{text}' as {type.Name}");
        }
        throw new ArgumentException($"config key '{key}': type {type.Name} cannot be set from the command line");
    }

    private static string Snake(string name) => JsonNamingPolicy.SnakeCaseLower.ConvertName(name);
}
