export { getScaling as GET } from "@/lib/scaling/console";
