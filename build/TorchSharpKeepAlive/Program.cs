// Rewrites TorchSharp.dll so that no native-owning object can be finalized while a native call reads it.
//
// TorchSharp's Scalar and Tensor hold a raw IntPtr to libtorch memory and free it in a finalizer. A method such as
// `Tensor.add_(Scalar s, Scalar alpha)` reads `s.Handle`, then calls libtorch; from that read on, nothing in managed
// code refers to `s`, so the JIT reports it dead and a collection on any thread may run its finalizer, which frees
// the c10::Scalar libtorch is reading. An implicit conversion (`t.mul_(0.5)`, TorchSharp's own `add_(scalar, 1)`)
// creates exactly such an object. The same holds for temporary tensors outside a dispose scope.
//
// The rewrite gives every method of the assembly the lifetime rule .NET interop asks for (GC.KeepAlive after the
// last native use), mechanically:
//   1. each argument whose type owns native memory (a TorchSharp type with a finalizer, an array of one, or a generic
//      collection of one), `this` included, is passed to GC.KeepAlive before every `ret`;
//   2. each value of such a type returned by a call or `newobj` inside the method is also stored in a fresh local,
//      and that local is passed to GC.KeepAlive before every `ret`.
// A native call always completes before its method returns, so every object whose handle it reads is reachable for
// the whole call. GC.KeepAlive is a JIT intrinsic that emits no code; the stores cost a register spill at most.
// The patched assembly carries [assembly: AssemblyMetadata("SpineXR.KeepAlive", version)] so a process can check
// that it loaded the patched copy (SpineXR.Vision.TorchSharpPatch).
//
// usage: TorchSharpKeepAlive INPUT.dll OUTPUT.dll PATCH_VERSION   (OUTPUT written atomically; INPUT never modified)
using Mono.Cecil;
using Mono.Cecil.Cil;
using Mono.Cecil.Rocks;

const string MetadataKey = "SpineXR.KeepAlive";

if (args.Length != 3)
{
    Console.Error.WriteLine("usage: TorchSharpKeepAlive INPUT.dll OUTPUT.dll PATCH_VERSION");
    return 2;
}
string input = args[0], output = args[1], patchVersion = args[2];
try
{
    var resolver = new DefaultAssemblyResolver();
    resolver.AddSearchDirectory(Path.GetDirectoryName(Path.GetFullPath(input))!);
    using var assembly = AssemblyDefinition.ReadAssembly(input, new ReaderParameters { AssemblyResolver = resolver, ReadSymbols = false });
    var module = assembly.MainModule;
    if (assembly.CustomAttributes.Any(a => a.AttributeType.FullName == "System.Reflection.AssemblyMetadataAttribute" && (string)a.ConstructorArguments[0].Value == MetadataKey))
    {
        Console.Error.WriteLine($"{input}: already patched");
        return 2;
    }

    var owners = NativeOwners(module);
    var keepAlive = KeepAliveReference(module);
    int methods = 0, arguments = 0, temporaries = 0;
    foreach (var type in module.GetTypes())
        foreach (var method in type.Methods)
        {
            if (!method.HasBody) continue;
            var (a, t) = Patch(method, owners, keepAlive);
            if (a + t == 0) continue;
            methods++; arguments += a; temporaries += t;
        }
    AddMarker(module, patchVersion);

    string tmp = output + $".{Environment.ProcessId}.tmp";
    Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
    assembly.Write(tmp);
    File.Move(tmp, output, overwrite: true);
    Console.WriteLine($"TorchSharpKeepAlive: {methods} methods keep {arguments} arguments and {temporaries} temporaries alive; " +
                      $"native-owning types: {string.Join(", ", owners.Select(o => o.Name).Order(StringComparer.Ordinal))}");
    return 0;
}
catch (Exception e)
{
    Console.Error.WriteLine($"TorchSharpKeepAlive: {input}: {e.Message}");
    return 1;
}

// Types of the assembly that free native memory in a finalizer (their own or inherited within the assembly).
static HashSet<TypeDefinition> NativeOwners(ModuleDefinition module)
{
    var set = new HashSet<TypeDefinition>();
    foreach (var type in module.GetTypes())
    {
        if (!type.IsClass || type.IsValueType) continue;
        for (var t = type; t != null; t = Local(t.BaseType, module))
            if (t.Methods.Any(m => m.Name == "Finalize" && m.Parameters.Count == 0 && m.IsVirtual))
            {
                set.Add(type);
                break;
            }
    }
    return set;
}

// The definition of a type declared in this module (generic instances by their generic type), else null.
static TypeDefinition? Local(TypeReference? type, ModuleDefinition module) => type switch
{
    null => null,
    GenericInstanceType g => Local(g.ElementType, module),
    TypeDefinition d => d.Module == module ? d : null,
    _ => type.Scope == module ? type.Resolve() : null,
};

static bool OwnsNative(TypeReference? type, HashSet<TypeDefinition> owners, ModuleDefinition module)
{
    switch (type)
    {
        case null or ByReferenceType or PointerType or GenericParameter: return false;
        case ArrayType array: return OwnsNative(array.ElementType, owners, module);
        case GenericInstanceType generic:
            if (generic.IsValueType) return false;
            return generic.GenericArguments.Any(g => OwnsNative(g, owners, module)) || OwnsNative(generic.ElementType, owners, module);
    }
    return !type.IsValueType && Local(type, module) is { } definition && owners.Contains(definition);
}

// The static type of what a call leaves on the stack, with a generic parameter of a generic declaring type replaced
// by its argument (Module<Tensor, Tensor>.call returns `!1`, which is Tensor there).
static TypeReference? ResultType(MethodReference callee)
{
    var ret = callee.ReturnType;
    if (ret is GenericParameter { Type: GenericParameterType.Type } gp && callee.DeclaringType is GenericInstanceType git &&
        gp.Position < git.GenericArguments.Count)
        return git.GenericArguments[gp.Position];
    return ret;
}

static (int Arguments, int Temporaries) Patch(MethodDefinition method, HashSet<TypeDefinition> owners, MethodReference keepAlive)
{
    var body = method.Body;
    body.SimplifyMacros(); // short branches may not reach across the inserted code
    var il = body.GetILProcessor();
    var keep = new List<Func<Instruction>>();

    if (method.HasThis && owners.Contains(method.DeclaringType))
        keep.Add(() => il.Create(OpCodes.Ldarg_0));
    int arguments = keep.Count;
    foreach (var p in method.Parameters)
        if (OwnsNative(p.ParameterType, owners, method.Module))
        {
            var parameter = p;
            keep.Add(() => il.Create(OpCodes.Ldarg, parameter));
            arguments++;
        }

    int temporaries = 0;
    foreach (var instruction in body.Instructions.ToList())
    {
        if (instruction.OpCode.Code is not (Code.Call or Code.Callvirt or Code.Newobj)) continue;
        var callee = (MethodReference)instruction.Operand;
        var type = instruction.OpCode.Code == Code.Newobj ? callee.DeclaringType : ResultType(callee);
        if (!OwnsNative(type, owners, method.Module)) continue;
        if (instruction.Previous?.OpCode.Code == Code.Tail) il.Remove(instruction.Previous); // a tail call leaves no frame to keep
        var local = new VariableDefinition(method.Module.TypeSystem.Object);
        body.Variables.Add(local);
        var dup = il.Create(OpCodes.Dup);
        il.InsertAfter(instruction, dup);
        il.InsertAfter(dup, il.Create(OpCodes.Stloc, local));
        keep.Add(() => il.Create(OpCodes.Ldloc, local));
        temporaries++;
    }
    if (keep.Count == 0)
    {
        body.OptimizeMacros();
        return (0, 0);
    }

    // Before each `ret`: load and GC.KeepAlive every kept value. The `ret` instruction object itself becomes the first
    // load, so branches and handler ends that pointed at it now enter the keep-alive sequence.
    foreach (var ret in body.Instructions.Where(i => i.OpCode.Code == Code.Ret).ToList())
    {
        var sequence = new List<Instruction>();
        foreach (var load in keep)
        {
            sequence.Add(load());
            sequence.Add(il.Create(OpCodes.Call, keepAlive));
        }
        sequence.Add(il.Create(OpCodes.Ret));
        ret.OpCode = sequence[0].OpCode;
        ret.Operand = sequence[0].Operand;
        var at = ret;
        foreach (var next in sequence.Skip(1))
        {
            il.InsertAfter(at, next);
            at = next;
        }
    }
    body.SimplifyMacros();
    body.OptimizeMacros();
    return (arguments, temporaries);
}

// System.GC.KeepAlive(object) as the assembly already references it, else a new reference into its core library.
static MethodReference KeepAliveReference(ModuleDefinition module)
{
    var existing = module.GetMemberReferences().OfType<MethodReference>()
        .FirstOrDefault(m => m.Name == "KeepAlive" && m.DeclaringType.FullName == "System.GC" && m.Parameters.Count == 1);
    if (existing != null) return existing;
    var gc = new TypeReference("System", "GC", module, module.TypeSystem.Object.Scope);
    var reference = new MethodReference("KeepAlive", module.TypeSystem.Void, gc) { HasThis = false };
    reference.Parameters.Add(new ParameterDefinition(module.TypeSystem.Object));
    return module.ImportReference(reference);
}

static void AddMarker(ModuleDefinition module, string patchVersion)
{
    var attributeType = new TypeReference("System.Reflection", "AssemblyMetadataAttribute", module, module.TypeSystem.Object.Scope);
    var ctor = new MethodReference(".ctor", module.TypeSystem.Void, attributeType) { HasThis = true };
    ctor.Parameters.Add(new ParameterDefinition(module.TypeSystem.String));
    ctor.Parameters.Add(new ParameterDefinition(module.TypeSystem.String));
    var attribute = new CustomAttribute(module.ImportReference(ctor));
    attribute.ConstructorArguments.Add(new CustomAttributeArgument(module.TypeSystem.String, MetadataKey));
    attribute.ConstructorArguments.Add(new CustomAttributeArgument(module.TypeSystem.String, patchVersion));
    module.Assembly.CustomAttributes.Add(attribute);
}
