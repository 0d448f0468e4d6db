// JSON config files and `key=value` overrides for training configs (sealed records with init properties).
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
    public static T ApplyJson<T>(T baseline, string path) where T : class
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{path}: expected a JSON object");
        var result = baseline;
        foreach (var p in doc.RootElement.EnumerateObject())
        {
            var prop = Find<T>(p.Name) ?? throw new InvalidDataException($"{path}: unknown config key '{p.Name}' (known: {string.Join(", ", Keys<T>())})");
            object? value = p.Value.Deserialize(prop.PropertyType, Json);
            result = With(result, prop, value);
        }
        return result;
    }

    /// <summary>Applies <c>key=value</c> pairs (numbers, booleans, enum names, comma lists, <c>null</c>).</summary>
    public static T ApplyOverrides<T>(T baseline, IEnumerable<KeyValuePair<string, string>> overrides) where T : class
    {
        var result = baseline;
        foreach (var (key, text) in overrides)
        {
            var prop = Find<T>(key) ?? throw new ArgumentException($"unknown config key '{key}' (known: {string.Join(", ", Keys<T>())})");
            result = With(result, prop, Parse(prop.PropertyType, text, key));
        }
        return result;
    }

    /// <summary>The snake_case keys of <typeparamref name="T"/>.</summary>
    public static IEnumerable<string> Keys<T>() => Props<T>().Select(p => Snake(p.Name));

    private static IEnumerable<PropertyInfo> Props<T>() =>
        typeof(T).GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite && p.GetIndexParameters().Length == 0 && p.Name != "EqualityContract");

    private static PropertyInfo? Find<T>(string key) =>
        Props<T>().FirstOrDefault(p => Snake(p.Name) == key || p.Name == key);

    private static T With<T>(T record, PropertyInfo prop, object? value) where T : class
    {
        // Records: clone through the compiler's copy constructor, then set the init property on the copy.
        var clone = (T)typeof(T).GetMethod("<Clone>$")!.Invoke(record, null)!;
        prop.SetValue(clone, value);
        return clone;
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
