package touchpoint.ingest;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonFactory;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonParser;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonToken;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.StreamReadConstraints;
import org.apache.flink.table.functions.ScalarFunction;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.data.StringData;

/**
 * The ingest rules of udfs/ingest_rules.py, on the JVM: one raw line in, its typed fields plus a DLQ reason out.
 *
 * <p>Why on the JVM: the same function in Python (thread mode) capped ingest at a quarter of a Kafka passthrough,
 * and Flink SQL's JSON_VALUE parses the line again for every field it extracts. Here each line is read once, as a
 * stream of tokens (no tree). udfs/ingest_rules.py stays the readable specification; tests/jobs/test_ingest.py
 * holds both equal on the same lines.
 *
 * <p>Declared non-deterministic on purpose: the planner then evaluates it once per line and hands the row to both
 * branches (valid, DLQ). A deterministic ROW function is inlined into every field reference (called 17 times a
 * line), and as a table function each branch got its own copy (called twice).
 *
 * <p>The result row is the fields in order (integers as BIGINT), then reason, detail and the original line
 * (all three null when valid). The bounds and vocabularies arrive as constant arguments from the SQL recipe,
 * which takes them from the settings and the JSON schemas.
 */
abstract class IngestCheck extends ScalarFunction {
    /** Nesting deeper than this is not read (bad_json), as the Python rules' parser (orjson) refuses it too. */
    static final int MAX_DEPTH = 1024;

    private static final JsonFactory JSON =
            JsonFactory.builder()
                    .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(MAX_DEPTH).build())
                    .build();
    private static final Pattern MSISDN = Pattern.compile("[0-9]{5,15}");
    private static final Pattern IMSI = Pattern.compile("[0-9]{14,15}");
    /**
     * Formats of the other string fields, as the topics' JSON Schemas state them: ids are not empty, an IMEI is 14
     * to 16 digits, a PLMN 5 or 6. {min length, max length, digits only (1) or any (0)}; checked without a regex,
     * since this runs for every line.
     */
    private static final Map<String, int[]> FORMATS =
            Map.of(
                    "event_id", new int[] {1, Integer.MAX_VALUE, 0},
                    "order_id", new int[] {1, Integer.MAX_VALUE, 0},
                    "product_id", new int[] {1, Integer.MAX_VALUE, 0},
                    "imei", new int[] {14, 16, 1},
                    "vlr_plmn", new int[] {5, 6, 1});
    private static final Set<String> INTS = Set.of("lac", "cell_id", "duration_s", "bytes_up", "bytes_down");
    private static final Set<String> NON_NEGATIVE = Set.of("duration_s", "bytes_up", "bytes_down");
    // integers the normalised topics carry as INT (32 bits): a larger value is invalid, not wrapped around
    private static final Set<String> INT32 = Set.of("lac", "duration_s");

    /** What a field held: absent (or null), a string, an integer that fits a BIGINT, or anything else. */
    private static final byte ABSENT = 0, STRING = 1, INT = 2, OTHER = 3;

    private final String[] fields;
    private final Map<String, Integer> index = new HashMap<>();
    private final int[] required;
    // per field position, decided once: which rules apply to it (a set lookup per field and line otherwise)
    private final boolean[] isInt, nonNegative, int32;
    private final int[][] format;
    // positions of the fields with a rule of their own; -1 where the source has no such field
    private final int vocabAt, idAt, tsAt, typeAt, calledAt, msisdnAt, imsiAt;
    private final String typeReason;
    private final boolean normalise;
    // The vocabularies are constants of the job: split once, kept while the same strings come in.
    private String typesText, vocabText;
    private Set<String> types = Set.of(), vocab = Set.of();

    /**
     * @param typeField the field naming the record's type (its unknown values are rejected as {@code typeReason}),
     *     or null
     * @param vocabField a field with a closed vocabulary (else {@code invalid_value}), normalised ("g3 " to "G3")
     *     when {@code normalise}
     */
    IngestCheck(
            String[] fields,
            String[] required,
            String typeField,
            String typeReason,
            String vocabField,
            boolean normalise) {
        this.fields = fields;
        this.typeReason = typeReason;
        this.normalise = normalise;
        for (int i = 0; i < fields.length; i++) {
            index.put(fields[i], i);
        }
        this.required = Arrays.stream(required).mapToInt(index::get).toArray();
        this.isInt = new boolean[fields.length];
        this.nonNegative = new boolean[fields.length];
        this.int32 = new boolean[fields.length];
        this.format = new int[fields.length][];
        for (int i = 0; i < fields.length; i++) {
            format[i] = FORMATS.get(fields[i]);
            isInt[i] = INTS.contains(fields[i]);
            nonNegative[i] = NON_NEGATIVE.contains(fields[i]);
            int32[i] = INT32.contains(fields[i]);
        }
        this.vocabAt = at(vocabField);
        this.idAt = 0; // the record's id comes first
        this.tsAt = at("ts");
        this.msisdnAt = at("msisdn");
        this.imsiAt = at("imsi");
        this.typeAt = at(typeField);
        this.calledAt = at("called_number");
    }

    private int at(String field) {
        return field == null ? -1 : index.getOrDefault(field, -1);
    }

    /**
     * The line's ts when the rules find it valid, else null: the event time the line moves its raw partition's
     * watermark to (sql/tables/*_raw.sql). An invalid line is no event, whatever its ts says.
     */
    protected Long eventTime(StringData line, long tsMin, long tsMax, String typesCsv, String vocabCsv) {
        RowData checked = check(line, tsMin, tsMax, typesCsv, vocabCsv);
        return checked.isNullAt(fields.length) ? checked.getLong(tsAt) : null;
    }

    /**
     * The rules applied to one line. Each line is checked twice in a job (its event time in the source's watermark
     * generator, then its fields in the query), on the same thread, one right after the other: the second call
     * takes the first one's result from {@link Memo}.
     */
    protected RowData check(StringData line, long tsMin, long tsMax, String typesCsv, String vocabCsv) {
        byte[] bytes = line == null ? null : line.toBytes();
        Memo memo = MEMO.get().computeIfAbsent(getClass(), k -> new Memo());
        if (memo.holds(bytes, tsMin, tsMax, typesCsv, vocabCsv)) {
            return memo.result;
        }
        RowData result = checkOnce(line, bytes, tsMin, tsMax, typesCsv, vocabCsv);
        memo.keep(bytes, tsMin, tsMax, typesCsv, vocabCsv, result);
        return result;
    }

    /**
     * The last line a kind of check read on this thread, with its result. Keyed by the line's content (a copy) and
     * the constant arguments, so a hit is always the same question: the rules are a function of these alone.
     */
    private static final class Memo {
        private byte[] line;
        private long tsMin, tsMax;
        private String types, vocab;
        private RowData result;

        boolean holds(byte[] bytes, long min, long max, String typesCsv, String vocabCsv) {
            return result != null
                    && Arrays.equals(line, bytes)
                    && tsMin == min
                    && tsMax == max
                    && typesCsv.equals(types)
                    && vocabCsv.equals(vocab);
        }

        void keep(byte[] bytes, long min, long max, String typesCsv, String vocabCsv, RowData checked) {
            line = bytes == null ? null : bytes.clone(); // the caller's array may be reused for another line
            tsMin = min;
            tsMax = max;
            types = typesCsv;
            vocab = vocabCsv;
            result = checked;
        }
    }

    private static final ThreadLocal<Map<Class<?>, Memo>> MEMO = ThreadLocal.withInitial(HashMap::new);

    private RowData checkOnce(
            StringData line, byte[] bytes, long tsMin, long tsMax, String typesCsv, String vocabCsv) {
        if (!typesCsv.equals(typesText)) {
            types = new HashSet<>(Arrays.asList(typesCsv.split(",")));
            typesText = typesCsv;
        }
        if (!vocabCsv.equals(vocabText)) {
            vocab = new HashSet<>(Arrays.asList(vocabCsv.split(",")));
            vocabText = vocabCsv;
        }
        byte[] type = new byte[fields.length];
        Object[] value = new Object[fields.length];
        GenericRowData out = new GenericRowData(fields.length + 3);
        if (bytes == null || !utf8(bytes) || !read(bytes, type, value)) { // a bad line keeps nothing but itself
            return reject(out, new byte[fields.length], value, "bad_json", "not a JSON object", line);
        }
        String[] problem = problem(type, value, tsMin, tsMax);
        if (problem != null) {
            return reject(out, type, value, problem[0], problem[1], line);
        }
        for (int i = 0; i < fields.length; i++) {
            Object v = normalise && i == vocabAt && value[i] != null ? upper((String) value[i]) : value[i]; // "g3 " -> "G3"
            out.setField(i, v instanceof String ? StringData.fromString((String) v) : v);
        }
        return out;
    }

    /** See the class comment: this keeps the planner from evaluating it more than once per line. */
    @Override
    public boolean isDeterministic() {
        return false;
    }

    /**
     * Reads one JSON object into (type, value) per field; the last of duplicate keys wins. False when the line is
     * not exactly one JSON object, or holds what the Python rules' parser (orjson) refuses and Jackson accepts: a
     * number too large for a double (1e400) or an escaped lone surrogate ("\ud800").
     */
    private boolean read(byte[] line, byte[] type, Object[] value) {
        boolean escapes = hasEscape(line);
        try (JsonParser p = JSON.createParser(line)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return false;
            }
            JsonToken t;
            while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                if (escapes && !wellFormed(name)) {
                    return false;
                }
                Integer at = index.get(name);
                t = p.nextToken();
                byte kind;
                Object v = null;
                switch (t) {
                    case VALUE_STRING:
                        String s = p.getText();
                        if (escapes && !wellFormed(s)) {
                            return false;
                        }
                        kind = STRING;
                        v = s;
                        break;
                    case VALUE_NUMBER_INT:
                        boolean fits = p.getNumberType() == JsonParser.NumberType.INT
                                || p.getNumberType() == JsonParser.NumberType.LONG;
                        kind = fits ? INT : OTHER;
                        v = fits ? (Object) p.getLongValue() : null;
                        break;
                    case VALUE_NULL:
                        kind = ABSENT;
                        break;
                    case VALUE_NUMBER_FLOAT:
                        if (!Double.isFinite(p.getDoubleValue())) {
                            return false;
                        }
                        kind = OTHER;
                        break;
                    case START_OBJECT:
                    case START_ARRAY:
                        if (!nested(p, escapes)) {
                            return false;
                        }
                        kind = OTHER;
                        break;
                    default: // true, false
                        kind = OTHER;
                }
                if (at != null) {
                    type[at] = kind;
                    value[at] = v;
                }
            }
            return t == JsonToken.END_OBJECT && p.nextToken() == null; // nothing after the object
        } catch (IOException | RuntimeException e) { // JsonParseException, a too-deep or too-long document
            return false;
        }
    }

    /** Walks a nested value to its end, with the same checks as {@link #read}. */
    private static boolean nested(JsonParser p, boolean escapes) throws IOException {
        int depth = 1;
        while (depth > 0) {
            JsonToken t = p.nextToken();
            if (t == null) {
                return false;
            }
            switch (t) {
                case START_OBJECT:
                case START_ARRAY:
                    depth++;
                    break;
                case END_OBJECT:
                case END_ARRAY:
                    depth--;
                    break;
                case VALUE_NUMBER_FLOAT:
                    if (!Double.isFinite(p.getDoubleValue())) {
                        return false;
                    }
                    break;
                case FIELD_NAME:
                case VALUE_STRING:
                    if (escapes && !wellFormed(p.getText())) {
                        return false;
                    }
                    break;
                default:
            }
        }
        return true;
    }

    /** Whether the UTF-8 line has a \\u escape (only then can a string hold a lone surrogate). */
    /**
     * JSON is UTF-8: a line that is not (a stray byte, an overlong form, an encoded surrogate, a code point past
     * U+10FFFF) is bad_json, as for the Python rules. Jackson's own decoder lets some of these through. Lines of
     * ASCII, nearly all of them, cost one scan.
     */
    private static boolean utf8(byte[] line) {
        if (line.length >= 3 && line[0] == (byte) 0xEF && line[1] == (byte) 0xBB && line[2] == (byte) 0xBF) {
            return false; // a byte order mark: JSON text has none (RFC 8259), and the Python rules refuse it
        }
        for (byte b : line) {
            if (b < 0) {
                try {
                    StandardCharsets.UTF_8
                            .newDecoder()
                            .onMalformedInput(CodingErrorAction.REPORT)
                            .onUnmappableCharacter(CodingErrorAction.REPORT)
                            .decode(ByteBuffer.wrap(line));
                    return true;
                } catch (CharacterCodingException e) {
                    return false;
                }
            }
        }
        return true;
    }

    /**
     * Whether the line may hold a lone surrogate, which the Python rules refuse: an escaped one ({@code \\ud800}), or
     * one encoded as UTF-8 bytes (ED A0..BF ..), which is not UTF-8 but Jackson's decoder lets through.
     */
    private static boolean hasEscape(byte[] line) {
        for (int i = 0; i + 1 < line.length; i++) {
            if ((line[i] == '\\' && line[i + 1] == 'u') || (line[i] == (byte) 0xED && (line[i + 1] & 0xE0) == 0xA0)) {
                return true;
            }
        }
        return false;
    }

    /** A dead letter keeps the record's id and ts only when they have the right type. */
    private RowData reject(
            GenericRowData out, byte[] type, Object[] value, String reason, String detail, StringData line) {
        if (type[idAt] == STRING) {
            out.setField(idAt, StringData.fromString((String) value[idAt]));
        }
        if (type[tsAt] == INT) {
            out.setField(tsAt, value[tsAt]);
        }
        out.setField(fields.length, StringData.fromString(reason));
        out.setField(fields.length + 1, StringData.fromString(detail));
        out.setField(fields.length + 2, line);
        return out;
    }

    /** The first defect, as (reason, detail), or null; the order is that of udfs/ingest_rules.py. */
    private String[] problem(byte[] type, Object[] value, long tsMin, long tsMax) {
        for (int i : required) {
            if (type[i] == ABSENT) {
                return new String[] {"missing_field", fields[i]};
            }
        }
        if (typeAt >= 0) {
            if (type[typeAt] != STRING || !types.contains((String) value[typeAt])) {
                String shown = type[typeAt] == STRING ? (String) value[typeAt] : "not a string";
                return new String[] {typeReason, shown};
            }
            if (calledAt >= 0 && value[typeAt].equals("mo_call") && type[calledAt] == ABSENT) {
                return new String[] {"missing_field", "called_number"};
            }
        }
        if (type[tsAt] != INT) {
            return new String[] {"invalid_value", "ts"};
        }
        if (type[msisdnAt] != STRING || !MSISDN.matcher((String) value[msisdnAt]).matches()) {
            return new String[] {"invalid_value", "msisdn"};
        }
        if (imsiAt >= 0 && (type[imsiAt] != STRING || !IMSI.matcher((String) value[imsiAt]).matches())) {
            return new String[] {"invalid_value", "imsi"};
        }
        if (vocabAt >= 0 && type[vocabAt] != ABSENT) {
            String v = type[vocabAt] == STRING ? (String) value[vocabAt] : null;
            if (v == null || !vocab.contains(normalise ? upper(v) : v)) {
                return new String[] {"invalid_value", fields[vocabAt]};
            }
        }
        for (int i = 0; i < fields.length; i++) { // unknown extra fields are ignored: producers may add fields
            if (type[i] == ABSENT) {
                continue;
            }
            if (isInt[i]) {
                long v = type[i] == INT ? (Long) value[i] : 0;
                if (type[i] != INT
                        || (nonNegative[i] && v < 0)
                        || (int32[i] && (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE))) {
                    return new String[] {"invalid_value", fields[i]};
                }
            } else if (i != tsAt
                    && (type[i] != STRING
                            || (format[i] != null && !formatted((String) value[i], format[i])))) {
                return new String[] {"invalid_value", fields[i]};
            }
        }
        long t = (Long) value[tsAt];
        if (t < tsMin || t >= tsMax) {
            return new String[] {"ts_out_of_range", Long.toString(t)};
        }
        return null;
    }

    private static boolean formatted(String s, int[] f) {
        if (s.length() < f[0] || s.length() > f[1]) {
            return false;
        }
        for (int i = 0; f[2] == 1 && i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return false;
            }
        }
        return true;
    }

    /** Python's str.strip().upper(): strip also removes the non-breaking spaces Java's String.strip() keeps. */
    private static String upper(String s) {
        int a = 0, b = s.length();
        while (a < b && pySpace(s.charAt(a))) a++;
        while (b > a && pySpace(s.charAt(b - 1))) b--;
        return s.substring(a, b).toUpperCase(Locale.ROOT);
    }

    private static boolean pySpace(char c) {
        return Character.isWhitespace(c) || Character.isSpaceChar(c) || c == '\u0085';
    }

    private static boolean wellFormed(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                return false;
            }
        }
        return true;
    }
}
