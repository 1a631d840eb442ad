export { getScaling as GET } from "@/lib/control-plane/scaling/console";
